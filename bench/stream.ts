// The brokered byte stream (1 GiB, MiB/s and host RSS growth) against its ceiling, a raw
// unix-socket copy between two Node processes. `measureBrokeredStream` is the hook: while it
// returns undefined (e.g. when the broker cannot run) its rows show "pending broker".
// PLUGWIRE_BENCH_STREAM_BEFORE=DIR adds rows for the same stream from another checkout (DIR: a
// tree with node_modules, e.g. `git archive <commit> | tar -x -C DIR`), run in the same
// repetitions, interleaved: the before/after figures of docs/performance.md §14 and §17.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { generateTlsIdentity } from "../src/transport/auto-mtls.ts";
import type { BenchConfig } from "./config.ts";
import { helperNodeFlags, repoRoot, runHost } from "./pairings.ts";
import { num, runJson } from "./proc.ts";
import type { Results, RowSpec } from "./rows.ts";

export interface ByteStreamFigure {
  readonly mibPerSec: number;
  /** Peak RSS growth of the receiving (host) process during the copy. */
  readonly rssGrowthMiB: number;
}

/**
 * The brokered byte stream: a TS host starts the TS fixture plugin, which serves `bytes` bytes as a
 * brokered byte stream (Fixture.Source → broker.serveReadable, a dedicated brokered connection,
 * TLS under AutoMTLS); the host dials it (broker.dialReadable) and reads everything. Rate from
 * first byte to end and the host's peak RSS growth, in a fresh host process (bench/ts-host.ts
 * bench-brokered); `borrowed` reads through broker.dialBorrowedChunks instead of dialReadable,
 * `tree` runs another checkout's host and plugin. Returning undefined marks the rows "pending broker".
 */
export async function measureBrokeredStream(
  bytes: number,
  mtls: boolean,
  how: { tree?: string | undefined; borrowed?: boolean } = {},
): Promise<ByteStreamFigure | undefined> {
  const tree = how.tree;
  const flags = ["-size", String(bytes), ...(how.borrowed === true ? ["-borrowed"] : [])];
  const result =
    tree === undefined
      ? await runHost({
          host: "ts",
          plugin: "ts",
          scenario: "bench-brokered",
          autoMtls: mtls,
          flags,
        })
      : await runJson(process.execPath, [
          ...helperNodeFlags,
          join(tree, "bench/ts-host.ts"),
          ...["-cmd", join(tree, "test/fixtures/fixture-plugin"), "-scenario", "bench-brokered"],
          ...(mtls ? ["-automtls"] : []),
          ...flags,
          ...["--", "test-grpc"],
        ]);
  return { mibPerSec: num(result, "mibPerSec"), rssGrowthMiB: num(result, "rssGrowthMiB") };
}

const MiB = 1024 * 1024;

function label(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

/**
 * One raw copy of `bytes` through a unix socket between two fresh Node processes; with `tls`,
 * through mutual TLS with AutoMTLS's keys and settings (each side trusts only the other's cert).
 */
export async function rawUnixCopy(bytes: number, tls = false): Promise<ByteStreamFigure> {
  const dir = mkdtempSync(join(tmpdir(), "pw-bench-"));
  const socket = join(dir, "s");
  const script = join(repoRoot, "bench/raw-copy.ts");
  const tlsArgs: string[] = [];
  if (tls) {
    for (const side of ["receiver", "sender"]) {
      const identity = await generateTlsIdentity();
      writeFileSync(join(dir, `${side}.key`), identity.keyPem);
      writeFileSync(join(dir, `${side}.crt`), identity.certPem);
    }
    tlsArgs.push(dir);
  }
  try {
    const receiver = spawn(
      process.execPath,
      [...helperNodeFlags, script, "receive", socket, ...tlsArgs],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: receiver.stdout! })[Symbol.asyncIterator]();
    const ready = await lines.next();
    if (ready.value !== "ready") throw new Error("raw-copy receiver did not start");
    const sender = spawn(
      process.execPath,
      [...helperNodeFlags, script, "send", socket, String(bytes), ...tlsArgs],
      { stdio: "inherit" },
    );
    const report = await lines.next();
    await Promise.all([once(receiver, "exit"), once(sender, "exit")]);
    const figure = JSON.parse(String(report.value)) as ByteStreamFigure & { bytes: number };
    if (figure.bytes !== bytes) throw new Error(`raw copy moved ${figure.bytes} of ${bytes} bytes`);
    return figure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runByteStream(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  const size = label(config.streamBytes);
  const ceiling = (tls: boolean): RowSpec => ({
    id: tls ? "bytes.raw-tls-ceiling" : "bytes.raw-ceiling",
    measurement: `byte stream ${size} · rate`,
    subject: `raw unix socket${tls ? " + mutual TLS" : ""}, Node → Node (ceiling)`,
    mtls: tls ? "on" : "off",
    unit: "MiB/s",
    better: "higher",
    baseline: tls ? "bytes.raw-tls-ceiling" : "bytes.raw-ceiling",
    baselineLabel: "itself",
  });
  const ceilingRss = (tls: boolean): RowSpec => ({
    id: `${ceiling(tls).id}.rss`,
    measurement: `byte stream ${size} · receiver RSS growth`,
    subject: ceiling(tls).subject,
    mtls: tls ? "on" : "off",
    unit: "MiB",
    better: "lower",
  });
  // Issue 11: ≥ 0.8× the matching raw copy (plain socket, or TLS under AutoMTLS); RSS < 32 MiB.
  // One reader per entry: the Readable (dialReadable), borrowed chunks (dialBorrowedChunks), and
  // when asked for, the same two in another checkout (no target: the "before" of a change).
  const before = process.env.PLUGWIRE_BENCH_STREAM_BEFORE || undefined;
  const readers: Reader[] = [
    ...(before === undefined
      ? []
      : [
          { key: "", label: " (before)", tree: before },
          { key: "-borrowed", label: ", borrowed chunks (before)", tree: before, borrowed: true },
        ]),
    { key: "", label: "" },
    { key: "-borrowed", label: ", borrowed chunks", borrowed: true },
  ];
  const brokered = (reader: Reader, mtls: boolean): RowSpec => ({
    id: `bytes.brokered${reader.key}.${mtls ? "mtls" : "plain"}${reader.tree === undefined ? "" : ".before"}`,
    measurement: `byte stream ${size} · rate`,
    subject: `brokered stream${reader.label}, TS plugin → TS host`,
    mtls: mtls ? "on" : "off",
    unit: "MiB/s",
    better: "higher",
    baseline: ceiling(mtls).id,
    baselineLabel: mtls ? "raw TLS copy" : "raw socket",
    target:
      reader.tree === undefined
        ? { kind: "ratio-min", limit: 0.8, text: `≥ 0.8× ${mtls ? "raw TLS copy" : "raw socket"}` }
        : undefined,
    pending: "pending broker",
  });
  const brokeredRss = (reader: Reader, mtls: boolean): RowSpec => ({
    id: `${brokered(reader, mtls).id}.rss`,
    measurement: `byte stream ${size} · host RSS growth`,
    subject: brokered(reader, mtls).subject,
    mtls: mtls ? "on" : "off",
    unit: "MiB",
    better: "lower",
    target:
      reader.tree === undefined ? { kind: "abs-max", limit: 32, text: "< 32 MiB" } : undefined,
    pending: "pending broker",
  });
  // Declared up front so the rate rows and the RSS rows each stay together in the table.
  for (const tls of [false, true]) results.row(ceiling(tls));
  for (const mtls of [false, true]) for (const r of readers) results.row(brokered(r, mtls));
  for (const tls of [false, true]) results.row(ceilingRss(tls));
  for (const mtls of [false, true]) for (const r of readers) results.row(brokeredRss(r, mtls));
  const measureInto = async (reader: Reader, mtls: boolean) => {
    await results.attempt(
      `brokered stream${reader.label} of ${size}, mtls=${mtls}`,
      log,
      async () => {
        const figure = await measureBrokeredStream(config.streamBytes, mtls, reader);
        if (figure === undefined) return;
        results.add({ ...brokered(reader, mtls), pending: undefined }, figure.mibPerSec);
        results.add({ ...brokeredRss(reader, mtls), pending: undefined }, figure.rssGrowthMiB);
      },
    );
  };
  for (let rep = 0; rep < config.reps; rep++) {
    log(`byte stream: rep ${rep + 1}/${config.reps} (${size})`);
    for (const tls of [false, true]) {
      await results.attempt(`raw unix-socket copy of ${size}, tls=${tls}`, log, async () => {
        const raw = await rawUnixCopy(config.streamBytes, tls);
        results.add(ceiling(tls), raw.mibPerSec);
        results.add(ceilingRss(tls), raw.rssGrowthMiB);
      });
    }
    // The readers take turns going first, so none always runs on a warmer (or busier) machine.
    const order = readers.map((_, i) => readers[(i + rep) % readers.length]!);
    for (const mtls of [false, true]) for (const reader of order) await measureInto(reader, mtls);
  }
}

interface Reader {
  /** Row id part: "" (dialReadable), "-borrowed"; rows of another tree end in ".before". */
  readonly key: string;
  readonly label: string;
  readonly tree?: string;
  readonly borrowed?: boolean;
}
