// The long soak behind the reliability suite (`npm run soak`): start/stop cycles and a million
// calls on each wire, with the host's file descriptors, the processes below it, the `plugwire-*`
// temporary directories, active handles and RSS (after a full GC) read before, during and after.
// Flat means: the same fds, no process, no directory and no handle left, and RSS back near where
// it was once the churn is over. Bounded in count and time; talks only to its own plugins.
//
//   node --expose-gc bench/soak.ts [--cycles 1000] [--calls 1000000] [--concurrency 64] [--json FILE]
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginClient } from "../src/index.ts";
import { startPlugin } from "../src/index.ts";
import { Fixture } from "../test/fixtures/gen/fixture_pb.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const plugin = join(root, "test/fixtures/fixture-plugin");
const handshake = {
  magicCookieKey: "TEST_MAGIC_COOKIE",
  magicCookieValue: "test",
  protocolVersion: 1,
};
const plugins = { fixture: Fixture } as const;
const wires = ["fast", "grpc"] as const;
type Wire = (typeof wires)[number];

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}
const cycles = flag("cycles", 1000);
const calls = flag("calls", 1_000_000);
const concurrency = flag("concurrency", 64);
const jsonAt = process.argv.indexOf("--json");
const jsonFile = jsonAt < 0 ? undefined : process.argv[jsonAt + 1];

interface Snapshot {
  readonly label: string;
  readonly fds: number;
  readonly descendants: number;
  readonly tempDirs: number;
  readonly handles: Record<string, number>;
  readonly rssMiB: number;
  readonly heapMiB: number;
}

/** Every process whose parent chain leads to this one. */
function descendants(): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone while we looked
    }
  }
  let count = 0;
  for (const pid of parent.keys()) {
    for (let at = parent.get(pid); at !== undefined && at > 1; at = parent.get(at))
      if (at === process.pid) {
        count++;
        break;
      }
  }
  return count;
}

function snapshot(label: string): Snapshot {
  globalThis.gc?.();
  globalThis.gc?.();
  const handles: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) handles[kind] = (handles[kind] ?? 0) + 1;
  const fds = readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return !readlinkSync(`/proc/self/fd/${fd}`).startsWith("/proc/"); // the readdir's own fd
    } catch {
      return false;
    }
  }).length;
  const memory = process.memoryUsage();
  return {
    label,
    fds,
    descendants: descendants(),
    tempDirs: readdirSync(tmpdir()).filter((name) => name.startsWith("plugwire-")).length,
    handles,
    rssMiB: +(memory.rss / 2 ** 20).toFixed(1),
    heapMiB: +(memory.heapUsed / 2 ** 20).toFixed(1),
  };
}

function start(wire: Wire): Promise<PluginClient<typeof plugins>> {
  return startPlugin({
    cmd: plugin,
    args: ["test-grpc"],
    handshake,
    plugins,
    fastWire: wire === "fast",
    startTimeoutMs: 60_000,
  });
}

async function churn(wire: Wire, count: number): Promise<number> {
  const began = performance.now();
  for (let i = 0; i < count; i++) {
    const client = await start(wire);
    await client.dispense("fixture").echo({ payload: new Uint8Array(64) }, { timeoutMs: 10_000 });
    await client.kill();
  }
  return (performance.now() - began) / 1000;
}

/** RSS (MiB, after GC) at each tenth of a call run: a leak grows to the end, a plateau levels off. */
const rssDuringCalls: Record<string, number[]> = {};

async function hammer(wire: Wire, total: number): Promise<number> {
  const client = await start(wire);
  const fixture = client.dispense("fixture");
  const payload = new Uint8Array(64);
  const samples: number[] = [];
  rssDuringCalls[wire] = samples;
  const step = Math.max(1, Math.floor(total / 10));
  let next = 0;
  let seconds = 0;
  for (let done = 0; done < total; done += step) {
    const end = Math.min(total, done + step);
    const began = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < end) {
          next++;
          await fixture.echo({ payload }, { timeoutMs: 30_000 });
        }
      }),
    );
    seconds += (performance.now() - began) / 1000;
    samples.push(snapshot("sample").rssMiB);
  }
  await client.kill();
  return seconds;
}

const snapshots: Snapshot[] = [snapshot("before")];
const runs: Array<{ wire: Wire; what: string; count: number; seconds: number }> = [];
// Warm up once per wire so the first snapshot after work is not the cost of loading modules.
for (const wire of wires) await churn(wire, 3);
snapshots.push(snapshot("warm"));
for (const wire of wires) {
  const perWire = Math.ceil(cycles / wires.length);
  runs.push({
    wire,
    what: "start/stop cycles",
    count: perWire,
    seconds: await churn(wire, perWire),
  });
  snapshots.push(snapshot(`after ${perWire} cycles (${wire})`));
  runs.push({ wire, what: "calls, 64 B", count: calls, seconds: await hammer(wire, calls) });
  snapshots.push(snapshot(`after ${calls} calls (${wire})`));
}

const pad = (text: string | number, width: number) => String(text).padStart(width);
console.log("run                                    count   seconds");
for (const run of runs)
  console.log(
    `${`${run.what} (${run.wire})`.padEnd(36)} ${pad(run.count, 8)} ${pad(run.seconds.toFixed(1), 9)}`,
  );
console.log(
  "\nsnapshot                               fds  procs  tmpdirs  handles                     RSS MiB  heap MiB",
);
for (const s of snapshots) {
  const handles = Object.entries(s.handles)
    .map(([kind, n]) => `${kind}:${n}`)
    .join(" ");
  console.log(
    `${s.label.padEnd(36)} ${pad(s.fds, 5)} ${pad(s.descendants, 6)} ${pad(s.tempDirs, 8)}  ${handles.padEnd(26)} ${pad(s.rssMiB, 8)} ${pad(s.heapMiB, 9)}`,
  );
}
for (const [wire, samples] of Object.entries(rssDuringCalls)) {
  const half = samples[Math.floor(samples.length / 2) - 1] ?? samples[0]!;
  console.log(
    `RSS during the ${wire} calls, each tenth: ${samples.join(" ")} MiB ` +
      `(first half +${(half - samples[0]!).toFixed(1)}, second half +${(samples.at(-1)! - half).toFixed(1)})`,
  );
}
// The warm snapshot holds what a host keeps for its whole life (the tree guard process and its
// pipe: docs/lifecycle.md); anything above it at the end is left behind.
const warm = snapshots[1]!;
const last = snapshots.at(-1)!;
const leaks = [
  last.fds > warm.fds ? `fds ${warm.fds} → ${last.fds}` : "",
  last.descendants > warm.descendants
    ? `processes ${warm.descendants} → ${last.descendants} (the tree guard is one)`
    : "",
  last.tempDirs > snapshots[0]!.tempDirs
    ? `temp dirs ${snapshots[0]!.tempDirs} → ${last.tempDirs}`
    : "",
].filter(Boolean);
console.log(
  `\nRSS warm → end: ${warm.rssMiB} → ${last.rssMiB} MiB (${(last.rssMiB - warm.rssMiB).toFixed(1)}); ` +
    (leaks.length === 0 ? "no fd, process or temp dir left" : `LEFT: ${leaks.join("; ")}`),
);
if (jsonFile !== undefined)
  writeFileSync(jsonFile, `${JSON.stringify({ runs, snapshots }, null, 2)}\n`);
process.exitCode = leaks.length === 0 ? 0 : 1;
