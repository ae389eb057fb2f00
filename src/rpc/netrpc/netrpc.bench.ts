// net/rpc call latency and throughput over a unix socket: TS client -> Go server, Go client -> TS
// server, and Go <-> Go (the standard library's net/rpc on both ends) as the base, in one run.
// Not a test; run by hand:
//
//   (cd interop/go && go build -o ../../.cache/interop-go/ ./cmd/netrpc-peer)
//   node --conditions=plugwire-source src/rpc/netrpc/netrpc.bench.ts [sequential calls, default 5000] [rounds, default 3]
//
// Each row is Plugin.Echo("ping"): sequential (mean and p50 latency) and with 64 calls in flight
// (calls/s). Every round runs every pairing; the best round of each is printed.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { go } from "../../gob/index.ts";
import { NetRpcClient } from "./client.ts";
import { define } from "./define.ts";
import { NetRpcServer } from "./server.ts";
import { netrpcClient } from "./typed-client.ts";

const sequentialCalls = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 3);
const parallelCalls = sequentialCalls * 10;
const inflight = 64;
const peerBinary = fileURLToPath(
  new URL("../../../.cache/interop-go/netrpc-peer", import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), "pw-netrpc-bench-"));
let count = 0;

const Echo = define({ Echo: { args: go.string, reply: go.string } });

interface Row {
  meanUs: number;
  p50Us: number;
  callsPerS: number;
}

/** Runs netrpc-peer and returns its JSON lines as they come. */
function run(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(peerBinary, args, { stdio: ["pipe", "pipe", "inherit"] });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function goEvent(args: string[]): Promise<Record<string, number>> {
  const { lines } = run(args);
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`netrpc-peer ${args.join(" ")} printed no bench event`);
    const event = JSON.parse(value);
    if (event.event === "bench") return event;
    if (event.event === "error") throw new Error(event.error);
  }
}

async function goServer(): Promise<{ path: string; child: ChildProcess }> {
  const path = join(dir, `g${count++}`);
  const { child, lines } = run(["-listen", `unix:${path}`]);
  await lines.next();
  return { path, child };
}

/** Go's client against the server at `path`. */
async function goClient(path: string): Promise<Row> {
  const seq = await goEvent([
    "-dial",
    `unix:${path}`,
    "-bench",
    "seq",
    "-n",
    String(sequentialCalls),
  ]);
  const par = await goEvent([
    "-dial",
    `unix:${path}`,
    "-bench",
    "par",
    "-n",
    String(parallelCalls),
  ]);
  return { meanUs: seq.meanUs!, p50Us: seq.p50Us!, callsPerS: par.callsPerS! };
}

/** Our client against the server at `path`. */
async function tsClient(path: string): Promise<Row> {
  const socket = connect(path);
  await once(socket, "connect");
  const client = new NetRpcClient(socket);
  const echo = netrpcClient(client, "Plugin", Echo);
  for (let i = 0; i < 200; i++) await echo.Echo("ping");
  const samples = new Float64Array(sequentialCalls);
  const started = performance.now();
  for (let i = 0; i < sequentialCalls; i++) {
    const t = performance.now();
    await echo.Echo("ping");
    samples[i] = performance.now() - t;
  }
  const meanUs = ((performance.now() - started) * 1000) / sequentialCalls;
  samples.sort();
  const per = Math.floor(parallelCalls / inflight);
  const parStarted = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      for (let i = 0; i < per; i++) await echo.Echo("ping");
    }),
  );
  const callsPerS = (per * inflight) / ((performance.now() - parStarted) / 1000);
  await client.close();
  return { meanUs, p50Us: samples[sequentialCalls >> 1]! * 1000, callsPerS };
}

async function tsServer(): Promise<{ path: string; close: () => Promise<void> }> {
  const path = join(dir, `t${count++}`);
  const server = new NetRpcServer().register("Plugin", Echo, { Echo: (text) => text });
  const listener = createServer((socket: Socket) => void server.serve(socket));
  await new Promise<void>((resolve) => listener.listen(path, resolve));
  return {
    path,
    close: async () => {
      listener.close();
      await server.close();
    },
  };
}

const pairings: Record<string, () => Promise<Row>> = {
  "Go client -> Go server (base)": async () => {
    const server = await goServer();
    try {
      return await goClient(server.path);
    } finally {
      server.child.stdin!.end();
    }
  },
  "TS client -> Go server": async () => {
    const server = await goServer();
    try {
      return await tsClient(server.path);
    } finally {
      server.child.stdin!.end();
    }
  },
  "Go client -> TS server": async () => {
    const server = await tsServer();
    try {
      return await goClient(server.path);
    } finally {
      await server.close();
    }
  },
  "TS client -> TS server": async () => {
    const server = await tsServer();
    try {
      return await tsClient(server.path);
    } finally {
      await server.close();
    }
  },
};

const best = new Map<string, Row>();
for (let round = 0; round < rounds; round++) {
  for (const [name, pairing] of Object.entries(pairings)) {
    const row = await pairing();
    const seen = best.get(name);
    best.set(name, {
      meanUs: Math.min(seen?.meanUs ?? Infinity, row.meanUs),
      p50Us: Math.min(seen?.p50Us ?? Infinity, row.p50Us),
      callsPerS: Math.max(seen?.callsPerS ?? 0, row.callsPerS),
    });
  }
}
const base = best.get("Go client -> Go server (base)")!;
console.log(`net/rpc over a unix socket, Plugin.Echo("ping"), best of ${rounds} rounds`);
console.log("pairing                          mean µs  p50 µs  vs Go   calls/s @64  vs Go");
for (const [name, row] of best) {
  console.log(
    `${name.padEnd(32)} ${row.meanUs.toFixed(1).padStart(7)} ${row.p50Us.toFixed(1).padStart(7)} ${(row.meanUs / base.meanUs).toFixed(2).padStart(5)}x ${row.callsPerS.toFixed(0).padStart(12)} ${(row.callsPerS / base.callsPerS).toFixed(2).padStart(5)}x`,
  );
}
rmSync(dir, { recursive: true, force: true });
