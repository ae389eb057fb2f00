// The ceiling for the brokered byte stream: a raw unix-socket copy between two Node processes.
//   node bench/raw-copy.ts receive SOCKET   prints "ready", then one JSON line when the copy ends
//   node bench/raw-copy.ts send SOCKET BYTES
// The receiver times first byte → end of stream and samples its own RSS every 20 ms.
import { createConnection, createServer } from "node:net";
import { msSince } from "./stats.ts";

const MiB = 1024 * 1024;
const [mode, socket = "", bytesArg = "0"] = process.argv.slice(2);

if (mode === "receive") {
  const server = createServer((conn) => {
    const rss0 = process.memoryUsage.rss();
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    let received = 0;
    let t0: bigint | undefined;
    conn.on("data", (chunk: Buffer) => {
      t0 ??= process.hrtime.bigint();
      received += chunk.byteLength;
    });
    conn.on("end", () => {
      const ms = t0 === undefined ? 0 : msSince(t0);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      process.stdout.write(
        `${JSON.stringify({ bytes: received, ms, mibPerSec: received / MiB / (ms / 1000), rssGrowthMiB: (peak - rss0) / MiB })}\n`,
      );
      conn.end();
      server.close();
    });
  });
  server.listen(socket, () => process.stdout.write("ready\n"));
} else if (mode === "send") {
  const total = Number(bytesArg);
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const conn = createConnection(socket, () => {
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.byteLength, total - sent);
        sent += n;
        if (!conn.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) {
          conn.once("drain", pump);
          return;
        }
      }
      conn.end();
    };
    pump();
  });
  conn.resume();
} else {
  process.stderr.write("usage: raw-copy.ts receive SOCKET | send SOCKET BYTES\n");
  process.exit(2);
}
