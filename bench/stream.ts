// The brokered byte stream (1 GiB, MiB/s and host RSS growth) against its ceiling, a raw
// unix-socket copy between two Node processes. `measureBrokeredStream` is the hook: while it
// returns undefined (e.g. when the broker cannot run) its rows show "pending broker".
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { BenchConfig } from "./config.ts";
import { helperNodeFlags, repoRoot, runHost } from "./pairings.ts";
import { num } from "./proc.ts";
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
 * bench-brokered). Returning undefined marks the rows "pending broker".
 */
export async function measureBrokeredStream(
  bytes: number,
  mtls: boolean,
): Promise<ByteStreamFigure | undefined> {
  const result = await runHost({
    host: "ts",
    plugin: "ts",
    scenario: "bench-brokered",
    autoMtls: mtls,
    flags: ["-size", String(bytes)],
  });
  return { mibPerSec: num(result, "mibPerSec"), rssGrowthMiB: num(result, "rssGrowthMiB") };
}

const MiB = 1024 * 1024;

function label(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

/** One raw copy of `bytes` through a unix socket between two fresh Node processes. */
export async function rawUnixCopy(bytes: number): Promise<ByteStreamFigure> {
  const dir = mkdtempSync(join(tmpdir(), "pw-bench-"));
  const socket = join(dir, "s");
  const script = join(repoRoot, "bench/raw-copy.ts");
  try {
    const receiver = spawn(process.execPath, [...helperNodeFlags, script, "receive", socket], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: receiver.stdout! })[Symbol.asyncIterator]();
    const ready = await lines.next();
    if (ready.value !== "ready") throw new Error("raw-copy receiver did not start");
    const sender = spawn(
      process.execPath,
      [...helperNodeFlags, script, "send", socket, String(bytes)],
      {
        stdio: "inherit",
      },
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
  const ceiling: RowSpec = {
    id: "bytes.raw-ceiling",
    measurement: `byte stream ${size} · rate`,
    subject: "raw unix socket, Node → Node (ceiling)",
    unit: "MiB/s",
    better: "higher",
    baseline: "bytes.raw-ceiling",
    baselineLabel: "itself",
  };
  const ceilingRss: RowSpec = {
    id: "bytes.raw-ceiling.rss",
    measurement: `byte stream ${size} · receiver RSS growth`,
    subject: "raw unix socket, Node → Node (ceiling)",
    unit: "MiB",
    better: "lower",
  };
  const brokered = (mtls: boolean): RowSpec => ({
    id: `bytes.brokered.${mtls ? "mtls" : "plain"}`,
    measurement: `byte stream ${size} · rate`,
    subject: "brokered stream, TS plugin → TS host",
    mtls: mtls ? "on" : "off",
    unit: "MiB/s",
    better: "higher",
    baseline: ceiling.id,
    baselineLabel: "raw socket",
    target: { kind: "ratio-min", limit: 0.5, text: "≥ 50% of raw socket" },
    pending: "pending broker",
  });
  const brokeredRss = (mtls: boolean): RowSpec => ({
    id: `bytes.brokered.${mtls ? "mtls" : "plain"}.rss`,
    measurement: `byte stream ${size} · host RSS growth`,
    subject: "brokered stream, TS plugin → TS host",
    mtls: mtls ? "on" : "off",
    unit: "MiB",
    better: "lower",
    target: { kind: "abs-max", limit: 64, text: "< 64 MiB" },
    pending: "pending broker",
  });
  // Declared up front so the rate rows and the RSS rows each stay together in the table.
  results.row(ceiling);
  for (const mtls of [false, true]) results.row(brokered(mtls));
  results.row(ceilingRss);
  for (const mtls of [false, true]) results.row(brokeredRss(mtls));
  for (let rep = 0; rep < config.reps; rep++) {
    log(`byte stream: rep ${rep + 1}/${config.reps} (${size})`);
    await results.attempt(`raw unix-socket copy of ${size}`, log, async () => {
      const raw = await rawUnixCopy(config.streamBytes);
      results.add(ceiling, raw.mibPerSec);
      results.add(ceilingRss, raw.rssGrowthMiB);
    });
    for (const mtls of [false, true]) {
      await results.attempt(`brokered stream of ${size}, mtls=${mtls}`, log, async () => {
        const figure = await measureBrokeredStream(config.streamBytes, mtls);
        if (figure === undefined) {
          results.row(brokered(mtls));
          results.row(brokeredRss(mtls));
          return;
        }
        results.add({ ...brokered(mtls), pending: undefined }, figure.mibPerSec);
        results.add({ ...brokeredRss(mtls), pending: undefined }, figure.rssGrowthMiB);
      });
    }
  }
}
