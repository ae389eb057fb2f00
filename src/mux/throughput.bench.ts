// Throughput of one yamux stream over a unix socket, against a raw socket copy, TS↔TS and TS↔Go
// (hashicorp/yamux through interop/go/cmd/yamux-peer). Not a test; run by hand:
//
//   (cd interop/go && go build -o ../../.cache/interop-go/ ./cmd/...)
//   node src/mux/throughput.bench.ts [MiB per run, default 512] [runs, default 3]
//
// Prints one line per case with the best and median MiB/s of the runs.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { YamuxSession } from "./session.ts";

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 512) * MiB;
const runs = Number(process.argv[3] ?? 3);
const peerBinary = fileURLToPath(new URL("../../.cache/interop-go/yamux-peer", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pw-mux-bench-"));
let count = 0;
const block = Buffer.alloc(MiB, 0x5a);

/** Writes `total` bytes with back-pressure, then ends. */
async function send(stream: Duplex): Promise<void> {
  for (let sent = 0; sent < total; sent += block.length) {
    if (!stream.write(block)) await once(stream, "drain");
  }
  stream.end();
}

/** Reads to EOF, counting bytes. */
async function receive(stream: Duplex): Promise<number> {
  let n = 0;
  stream.on("data", (chunk: Buffer) => {
    n += chunk.length;
  });
  await once(stream, "end");
  return n;
}

async function socketPair(): Promise<[Socket, Socket]> {
  const path = join(dir, `s${count++}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const a = connect(path);
  await once(a, "connect");
  const [b] = await accepted;
  server.close();
  return [a, b];
}

async function goPeer(args: string[]): Promise<{ socket: Socket; child: ChildProcess }> {
  const path = join(dir, `g${count++}`);
  const child = spawn(peerBinary, [...args, "-listen", `unix:${path}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) =>
    lines.on("line", (line) => {
      if (line.includes('"listening"')) resolve();
    }),
  );
  const socket = connect(path);
  await once(socket, "connect");
  return { socket, child };
}

type Case = () => Promise<number>; // returns elapsed ms for `total` bytes

const cases: Array<[string, Case]> = [
  [
    "raw unix socket, TS -> TS",
    async () => {
      const [a, b] = await socketPair();
      const t0 = performance.now();
      await Promise.all([send(a), receive(b)]);
      return performance.now() - t0;
    },
  ],
  [
    "yamux stream,    TS -> TS",
    async () => {
      const [a, b] = await socketPair();
      const client = new YamuxSession(a, { role: "client" });
      const server = new YamuxSession(b, { role: "server" });
      const t0 = performance.now();
      const accepted = server.accept();
      const stream = client.open();
      await Promise.all([
        send(stream),
        accepted.then(async (peer) => {
          await receive(peer);
          peer.end();
        }),
      ]);
      const ms = performance.now() - t0;
      await client.close();
      return ms;
    },
  ],
  [
    "raw unix socket, TS -> Go",
    async () => {
      const { socket, child } = await goPeer(["-raw"]);
      const t0 = performance.now();
      socket.write("discard\n");
      await Promise.all([send(socket), receive(socket)]);
      const ms = performance.now() - t0;
      child.kill();
      return ms;
    },
  ],
  [
    "yamux stream,    TS -> Go",
    async () => {
      const { socket, child } = await goPeer(["-role", "server"]);
      const session = new YamuxSession(socket, { role: "client" });
      const t0 = performance.now();
      const stream = session.open();
      stream.write("discard\n");
      await Promise.all([send(stream), receive(stream)]);
      const ms = performance.now() - t0;
      await session.close();
      child.kill();
      return ms;
    },
  ],
  [
    "raw unix socket, Go -> TS",
    async () => {
      const { socket, child } = await goPeer(["-raw"]);
      const t0 = performance.now();
      socket.end(`source ${total}\n`);
      await receive(socket);
      const ms = performance.now() - t0;
      child.kill();
      return ms;
    },
  ],
  [
    "yamux stream,    Go -> TS",
    async () => {
      const { socket, child } = await goPeer(["-role", "server"]);
      const session = new YamuxSession(socket, { role: "client" });
      const t0 = performance.now();
      const stream = session.open();
      stream.end(`source ${total}\n`);
      await receive(stream);
      const ms = performance.now() - t0;
      await session.close();
      child.kill();
      return ms;
    },
  ],
];

if (!existsSync(peerBinary)) {
  console.error(`${peerBinary} is missing: run \`node scripts/prepare-interop.ts\``);
  process.exit(1);
}
console.log(`one stream, ${total / MiB} MiB per run, ${runs} runs, node ${process.version}`);
for (const [name, run] of cases) {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) rates.push(total / MiB / ((await run()) / 1000));
  rates.sort((x, y) => x - y);
  const median = rates[Math.floor(rates.length / 2)]!;
  const best = rates[rates.length - 1]!;
  console.log(`${name}: median ${median.toFixed(0)} MiB/s, best ${best.toFixed(0)} MiB/s`);
}
rmSync(dir, { recursive: true, force: true });
