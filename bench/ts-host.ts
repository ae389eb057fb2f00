// The TypeScript host side of the benchmarks: a plugwire host (startPlugin) that launches one plugin
// and runs one scenario, printing one JSON report like goplugin-host (interop/go/README.md), so
// the runner treats a TS host and the Go host alike.
//
//   node bench/ts-host.ts -cmd PATH -scenario bench-unary [-automtls] [-grpc] [-n N] [-size B]
//        [-concurrency C] [-duration-ms D] [-warmup W] [-warmup-ms M] [-settle-ms S] -- PLUGIN ARGS...
//
// Scenarios and results (numbers are floats):
//   bench-unary       -n sequential Echo(-size)            {n,size,medianUs,p99Us,meanUs,minUs,maxUs}
//   bench-throughput  -concurrency callers for -duration-ms (after -warmup-ms untimed)
//                                                           {concurrency,size,durationMs,calls,callsPerSec}
//   bench-large       -n sequential Echo(-size)             {n,size,totalMs,mibPerSec}
//   bench-stream      -n messages through one EchoStream    {n,size,totalMs,messagesPerSec}
//   bench-start       -n times: spawn → first Echo, each followed by `node -e 0`
//                                                           {n,pluginMs[],nodeMs[],pluginMedianMs,nodeMedianMs}
//   bench-idle-rss    plugin and a bare Node idle for -settle-ms {pluginRssMiB,bareNodeRssMiB}
//   bench-host-rss    host RSS before/after -n more plugins (run with --expose-gc)
//                                                           {n,baseRssMiB,rssMiB,perPluginMiB}
//   bench-scale       -n plugins started together            {n,allReadyMs}
//   bench-brokered    the plugin serves -size bytes as a brokered byte stream (Fixture.Source), the
//                     host reads them     {bytes,totalMs,mibPerSec,rssGrowthMiB} (first byte → end);
//                     with -borrowed through broker.dialBorrowedChunks instead of dialReadable
import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import type { PluginClient } from "../src/index.ts";
import { startPlugin } from "../src/index.ts";
import { Fixture } from "../test/fixtures/gen/fixture_pb.js";
import { rssMiB } from "./proc.ts";
import { latencySummaryUs, median, msSince } from "./stats.ts";

const MiB = 1024 * 1024;
const defaultWarmupCalls = 100;
const plugins = { fixture: Fixture } as const;
type Plugin = PluginClient<typeof plugins>;

interface Config {
  cmd: string;
  args: string[];
  scenario: string;
  autoMtls: boolean;
  /** `-grpc`: refuse the fast wire, so a TS plugin is called over gRPC as a Go host would. */
  grpcOnly: boolean;
  /** `-borrowed`: bench-brokered reads borrowed chunks (broker.dialBorrowedChunks). */
  borrowed: boolean;
  n: number;
  size: number;
  concurrency: number;
  durationMs: number;
  /** Untimed calls (stream: messages) before measuring, as goplugin-host's -warmup. */
  warmup: number;
  /** bench-throughput: the callers run untimed this long first, as goplugin-host's -warmup-ms. */
  warmupMs: number;
  settleMs: number;
}

function parseArgs(argv: string[]): Config {
  const config: Config = {
    cmd: "",
    args: [],
    scenario: "",
    autoMtls: false,
    grpcOnly: false,
    borrowed: false,
    n: 0,
    size: 0,
    concurrency: 0,
    durationMs: 0,
    warmup: 0,
    warmupMs: 0,
    settleMs: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--":
        config.args = argv.slice(i + 1);
        i = argv.length;
        break;
      case "-cmd":
        config.cmd = value();
        break;
      case "-scenario":
        config.scenario = value();
        break;
      case "-grpc":
        config.grpcOnly = true;
        break;
      case "-automtls":
        config.autoMtls = true;
        break;
      case "-borrowed":
        config.borrowed = true;
        break;
      case "-n":
        config.n = Number(value());
        break;
      case "-size":
        config.size = Number(value());
        break;
      case "-concurrency":
        config.concurrency = Number(value());
        break;
      case "-duration-ms":
        config.durationMs = Number(value());
        break;
      case "-warmup":
        config.warmup = Number(value());
        break;
      case "-warmup-ms":
        config.warmupMs = Number(value());
        break;
      case "-settle-ms":
        config.settleMs = Number(value());
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  if (config.cmd === "") throw new Error("-cmd is required");
  return config;
}

const or = (value: number, fallback: number) => (value > 0 ? value : fallback);

function start(config: Config): Promise<Plugin> {
  return startPlugin({
    cmd: config.cmd,
    args: config.args,
    handshake: {
      magicCookieKey: "TEST_MAGIC_COOKIE",
      magicCookieValue: "test",
      protocolVersion: 1,
    },
    plugins,
    autoMtls: config.autoMtls,
    fastWire: !config.grpcOnly,
    startTimeoutMs: 60_000,
  });
}

async function warmUp(plugin: Plugin, size: number, calls: number): Promise<void> {
  const fixture = plugin.dispense("fixture");
  const payload = new Uint8Array(size);
  for (let i = 0; i < calls; i++) await fixture.echo({ payload });
}

async function benchUnary(config: Config, plugin: Plugin) {
  const n = or(config.n, 2000);
  const size = or(config.size, 64);
  await warmUp(plugin, size, or(config.warmup, defaultWarmupCalls));
  const fixture = plugin.dispense("fixture");
  const payload = new Uint8Array(size);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fixture.echo({ payload });
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return { n, size, ...latencySummaryUs(samples) };
}

async function benchThroughput(config: Config, plugin: Plugin) {
  const concurrency = or(config.concurrency, 4);
  const size = or(config.size, 64);
  const durationMs = or(config.durationMs, 2000);
  await warmUp(plugin, size, or(config.warmup, defaultWarmupCalls));
  if (config.warmupMs > 0) await callConcurrently(plugin, size, concurrency, config.warmupMs);
  const { calls, elapsedMs } = await callConcurrently(plugin, size, concurrency, durationMs);
  return {
    concurrency,
    size,
    durationMs: elapsedMs,
    calls,
    callsPerSec: calls / (elapsedMs / 1000),
  };
}

/** `concurrency` callers of Echo(`size`) for `durationMs`: the calls completed, the time taken. */
async function callConcurrently(
  plugin: Plugin,
  size: number,
  concurrency: number,
  durationMs: number,
): Promise<{ calls: number; elapsedMs: number }> {
  const fixture = plugin.dispense("fixture");
  const payload = new Uint8Array(size);
  let calls = 0;
  const t0 = process.hrtime.bigint();
  const stop = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stop) {
        await fixture.echo({ payload });
        calls++;
      }
    }),
  );
  return { calls, elapsedMs: msSince(t0) };
}

async function benchLarge(config: Config, plugin: Plugin) {
  const n = or(config.n, 20);
  const size = or(config.size, 4 * MiB);
  const fixture = plugin.dispense("fixture");
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = i & 0xff;
  // Untimed calls first (-warmup, default 2), as goplugin-host does.
  for (let i = 0; i < or(config.warmup, 2); i++) await fixture.echo({ payload });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const reply = await fixture.echo({ payload });
    if (reply.payload.byteLength !== size) {
      throw new Error(`Echo returned ${reply.payload.byteLength} bytes, want ${size}`);
    }
  }
  const totalMs = msSince(t0);
  return { n, size, totalMs, mibPerSec: (n * size) / MiB / (totalMs / 1000) };
}

async function pumpEchoStream(plugin: Plugin, n: number, size: number): Promise<number> {
  const fixture = plugin.dispense("fixture");
  const message = { payload: new Uint8Array(size) };
  async function* requests() {
    for (let i = 0; i < n; i++) yield message;
  }
  const t0 = process.hrtime.bigint();
  let received = 0;
  for await (const _ of fixture.echoStream(requests())) received++;
  const totalMs = msSince(t0);
  if (received !== n) throw new Error(`EchoStream returned ${received} messages, want ${n}`);
  return totalMs;
}

async function benchStream(config: Config, plugin: Plugin) {
  const n = or(config.n, 10_000);
  const size = or(config.size, 64);
  await pumpEchoStream(plugin, or(config.warmup, defaultWarmupCalls), size);
  const totalMs = await pumpEchoStream(plugin, n, size);
  return { n, size, totalMs, messagesPerSec: n / (totalMs / 1000) };
}

/** Spawn → exit of `node -e 0` with the same Node binary: the floor for any Node plugin's start. */
async function nodeE0Ms(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await once(child, "exit");
  return msSince(t0);
}

async function timedStart(config: Config): Promise<number> {
  const t0 = process.hrtime.bigint();
  const plugin = await start(config);
  await plugin.dispense("fixture").echo({ payload: new Uint8Array(64) });
  const elapsed = msSince(t0);
  await plugin.kill();
  return elapsed;
}

async function benchStart(config: Config) {
  const n = or(config.n, 5);
  // One untimed round of each warms the page cache and this host's own code paths.
  await timedStart(config);
  await nodeE0Ms();
  const pluginMs: number[] = [];
  const nodeMs: number[] = [];
  for (let i = 0; i < n; i++) {
    pluginMs.push(await timedStart(config));
    nodeMs.push(await nodeE0Ms());
  }
  return {
    n,
    pluginMs,
    nodeMs,
    pluginMedianMs: median(pluginMs),
    nodeMedianMs: median(nodeMs),
  };
}

async function benchIdleRss(config: Config) {
  const settleMs = or(config.settleMs, 1000);
  const bare = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], {
    stdio: "ignore",
  });
  const plugin = await start(config);
  try {
    await plugin.dispense("fixture").echo({ payload: new Uint8Array(64) });
    await delay(settleMs);
    return { settleMs, pluginRssMiB: rssMiB(plugin.pid), bareNodeRssMiB: rssMiB(bare.pid!) };
  } finally {
    bare.kill("SIGKILL");
    await plugin.kill();
  }
}

function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("bench-host-rss needs node --expose-gc");
  gc();
  return delay(200).then(() => {
    gc();
    return process.memoryUsage().rss / MiB;
  });
}

async function benchHostRss(config: Config) {
  const n = or(config.n, 8);
  // The first plugin loads every module and warms the code paths: it is not "additional".
  const first = await start(config);
  await warmUp(first, 64, defaultWarmupCalls);
  const baseRssMiB = await settledRss();
  const more: Plugin[] = [];
  for (let i = 0; i < n; i++) {
    const plugin = await start(config);
    await plugin.dispense("fixture").echo({ payload: new Uint8Array(64) });
    more.push(plugin);
  }
  const rss = await settledRss();
  await Promise.all([first, ...more].map((p) => p.kill()));
  return { n, baseRssMiB, rssMiB: rss, perPluginMiB: (rss - baseRssMiB) / n };
}

async function benchScale(config: Config) {
  const n = or(config.n, 8);
  const t0 = process.hrtime.bigint();
  const started = await Promise.allSettled(Array.from({ length: n }, () => start(config)));
  const allReadyMs = msSince(t0);
  const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  await Promise.all(ok.map((p) => p.kill()));
  const failed = started.find((s) => s.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return { n, allReadyMs };
}

async function benchBrokered(config: Config, plugin: Plugin) {
  const bytes = or(config.size, 1024 * MiB);
  const fixture = plugin.dispense("fixture");
  // Warm-up: a small stream opens the broker's code paths and connections.
  const dial = (id: number): Promise<AsyncIterable<unknown>> =>
    config.borrowed ? plugin.broker.dialBorrowedChunks(id) : plugin.broker.dialReadable(id);
  const warm = await fixture.source({ bytes: BigInt(MiB) });
  for await (const _ of await dial(warm.brokerId));
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const offer = await fixture.source({ bytes: BigInt(bytes) });
    const readable = await dial(offer.brokerId);
    let received = 0;
    let t0: bigint | undefined;
    for await (const chunk of readable) {
      t0 ??= process.hrtime.bigint();
      received += (chunk as Buffer).byteLength;
    }
    const totalMs = t0 === undefined ? 0 : msSince(t0);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (received !== bytes) throw new Error(`brokered stream moved ${received} of ${bytes} bytes`);
    return {
      bytes,
      totalMs,
      mibPerSec: bytes / MiB / (totalMs / 1000),
      rssGrowthMiB: (peak - rss0) / MiB,
    };
  } finally {
    clearInterval(sampler);
  }
}

const withPlugin =
  (body: (config: Config, plugin: Plugin) => Promise<Record<string, unknown>>) =>
  async (config: Config) => {
    const plugin = await start(config);
    try {
      return await body(config, plugin);
    } finally {
      await plugin.kill();
    }
  };

const scenarios: Record<string, (config: Config) => Promise<Record<string, unknown>>> = {
  "bench-unary": withPlugin(benchUnary),
  "bench-throughput": withPlugin(benchThroughput),
  "bench-large": withPlugin(benchLarge),
  "bench-stream": withPlugin(benchStream),
  "bench-start": benchStart,
  "bench-idle-rss": benchIdleRss,
  "bench-host-rss": benchHostRss,
  "bench-scale": benchScale,
  "bench-brokered": withPlugin(benchBrokered),
};

async function main(): Promise<number> {
  let scenario = "";
  try {
    const config = parseArgs(process.argv.slice(2));
    scenario = config.scenario;
    const body = scenarios[scenario];
    if (body === undefined) throw new Error(`unknown -scenario ${JSON.stringify(scenario)}`);
    const result = await body(config);
    process.stdout.write(`${JSON.stringify({ ok: true, scenario, result, error: "" })}\n`);
    return 0;
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stdout.write(`${JSON.stringify({ ok: false, scenario, result: null, error: text })}\n`);
    return 1;
  }
}

// Exit at once: a stopped plugin client may still hold its kill-grace timer.
const code = await main();
process.stdout.write("", () => process.exit(code));
