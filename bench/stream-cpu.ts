// The brokered byte stream with the CPU time of both processes, for deciding between variants on
// a shared machine (docs/performance.md §17): each run is a fresh TS host starting the TS fixture
// plugin, reading one stream after a 1 MiB warm-up; the variants take turns within each round.
//   node bench/stream-cpu.ts [--rounds N] [--mib N] VARIANT...
// VARIANT is READER:TLS[:TREE[:ENV=VALUE,...]]: READER `borrowed` (dialBorrowedChunks) or
// `readable` (dialReadable), TLS `tls` (AutoMTLS) or `plain`, TREE a checkout with node_modules
// (default: this one), ENV variables for both processes (an experiment's switch). Prints one line
// per run and the medians: MiB/s (first byte to end), host and plugin CPU ms (user+sys, during the
// stream), host peak RSS and arrayBuffers growth.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot } from "./pairings.ts";
import { median } from "./stats.ts";

const MiB = 1024 * 1024;

interface Figures {
  mibPerSec: number;
  hostCpuMs: number;
  pluginCpuMs: number;
  rssMiB: number;
  arrayBuffersMiB: number;
}

/** One run, in this process: the child side (`--one`). */
async function one(tree: string, reader: string, tls: boolean, bytes: number): Promise<Figures> {
  const { startPlugin } = await import(pathToFileURL(join(tree, "src/index.ts")).href);
  const { Fixture } = await import(
    pathToFileURL(join(tree, "test/fixtures/gen/fixture_pb.js")).href
  );
  const plugin = await startPlugin({
    cmd: join(tree, "test/fixtures/fixture-plugin"),
    args: ["test-grpc"],
    handshake: {
      magicCookieKey: "TEST_MAGIC_COOKIE",
      magicCookieValue: "test",
      protocolVersion: 1,
    },
    plugins: { fixture: Fixture },
    autoMtls: tls,
    startTimeoutMs: 60_000,
  });
  try {
    const fixture = plugin.dispense("fixture");
    const dial = (id: number): Promise<AsyncIterable<Buffer>> =>
      reader === "borrowed" ? plugin.broker.dialBorrowedChunks(id) : plugin.broker.dialReadable(id);
    for await (const _ of await dial((await fixture.source({ bytes: BigInt(MiB) })).brokerId));
    const children = readFileSync(`/proc/self/task/${process.pid}/children`, "utf8")
      .trim()
      .split(/\s+/);
    const m0 = process.memoryUsage();
    let peak = m0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = {
        ...m,
        rss: Math.max(peak.rss, m.rss),
        arrayBuffers: Math.max(peak.arrayBuffers, m.arrayBuffers),
      };
    }, 20);
    const offer = await fixture.source({ bytes: BigInt(bytes) });
    const chunks = await dial(offer.brokerId);
    let received = 0;
    let start: { t: bigint; host: NodeJS.CpuUsage; plugin: number } | undefined;
    for await (const chunk of chunks) {
      start ??= { t: process.hrtime.bigint(), host: process.cpuUsage(), plugin: cpuMs(children) };
      received += chunk.length;
    }
    const ms = Number(process.hrtime.bigint() - start!.t) / 1e6;
    const host = process.cpuUsage(start!.host);
    const pluginMs = cpuMs(children) - start!.plugin;
    clearInterval(sampler);
    if (received !== bytes) throw new Error(`moved ${received} of ${bytes} bytes`);
    return {
      mibPerSec: bytes / MiB / (ms / 1000),
      hostCpuMs: (host.user + host.system) / 1000,
      pluginCpuMs: pluginMs,
      rssMiB: (peak.rss - m0.rss) / MiB,
      arrayBuffersMiB: (peak.arrayBuffers - m0.arrayBuffers) / MiB,
    };
  } finally {
    await plugin.kill();
  }
}

/** User+system CPU ms of processes, from /proc (clock ticks of 10 ms). */
function cpuMs(pids: readonly string[]): number {
  let ms = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ms += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // gone
    }
  }
  return ms;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "4" },
    mib: { type: "string", default: "1024" },
    one: { type: "boolean", default: false },
  },
});
const bytes = Number(values.mib) * MiB;

if (values.one) {
  const [tree = repoRoot, reader = "borrowed", tls = "tls"] = positionals;
  process.stdout.write(`${JSON.stringify(await one(tree, reader, tls === "tls", bytes))}\n`);
} else {
  const variants = positionals.map((spec) => {
    const [reader = "borrowed", tls = "tls", tree = "", env = ""] = spec.split(":");
    const vars = Object.fromEntries(
      env
        .split(",")
        .filter(Boolean)
        .map((kv) => kv.split("=")),
    );
    return { spec, reader, tls, tree: tree === "" ? repoRoot : resolve(tree), env: vars };
  });
  const results = new Map<string, Figures[]>(variants.map((v) => [v.spec, []]));
  const script = join(repoRoot, "bench/stream-cpu.ts");
  for (let round = 0; round < Number(values.rounds); round++) {
    // Each variant goes first in turn, so none always runs on a warmer (or busier) machine.
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length]!;
      const run = spawnSync(
        process.execPath,
        [
          "--conditions=plugwire-source",
          script,
          "--one",
          "--mib",
          values.mib,
          v.tree,
          v.reader,
          v.tls,
        ],
        {
          env: { ...process.env, ...v.env },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const figures = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Figures;
      results.get(v.spec)!.push(figures);
      process.stdout.write(`round ${round + 1} ${v.spec} ${JSON.stringify(figures)}\n`);
    }
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  process.stdout.write(
    `medians of ${values.rounds} rounds, ${values.mib} MiB, load average now ${load}\n`,
  );
  for (const [spec, runs] of results) {
    const m = (key: keyof Figures) => Math.round(median(runs.map((r) => r[key])) * 10) / 10;
    process.stdout.write(
      `${spec}: ${m("mibPerSec")} MiB/s, host CPU ${m("hostCpuMs")} ms, plugin CPU ${m("pluginCpuMs")} ms, RSS +${m("rssMiB")} MiB, arrayBuffers +${m("arrayBuffersMiB")} MiB\n`,
    );
  }
}
