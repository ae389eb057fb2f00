// The ceiling for the brokered byte stream: a raw unix-socket copy between two Node processes,
// plain or through mutual TLS set up as AutoMTLS does (the brokered stream's ceiling under it).
//   node bench/raw-copy.ts receive SOCKET [TLSDIR]   prints "ready", then one JSON line at the end
//   node bench/raw-copy.ts send SOCKET BYTES [TLSDIR]
// TLSDIR holds receiver.{key,crt} and sender.{key,crt}. The receiver times first byte → end of
// stream and samples its own RSS every 20 ms.
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { msSince } from "./stats.ts";

const MiB = 1024 * 1024;
const [mode, socket = "", ...rest] = process.argv.slice(2);
const tlsDir = mode === "receive" ? rest[0] : rest[1];
const bytesArg = mode === "send" ? (rest[0] ?? "0") : "0";

/** key, cert and the peer's cert as AutoMTLS uses them: each side trusts exactly the other. */
function tlsOptions(own: string, peer: string) {
  const read = (name: string) => readFileSync(join(tlsDir!, name), "utf8");
  return {
    key: read(`${own}.key`),
    cert: read(`${own}.crt`),
    ca: [read(`${peer}.crt`)],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2" as const,
  };
}

if (mode === "receive") {
  const tls = tlsDir === undefined ? undefined : process.getBuiltinModule("node:tls");
  const onConnection = (conn: Socket) => {
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
  };
  const server =
    tls === undefined
      ? createServer(onConnection)
      : tls.createServer(tlsOptions("receiver", "sender"), onConnection);
  server.listen(socket, () => process.stdout.write("ready\n"));
} else if (mode === "send") {
  const total = Number(bytesArg);
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const start = (fn: () => void) =>
    tlsDir === undefined
      ? createConnection(socket, fn)
      : process
          .getBuiltinModule("node:tls")
          .connect(
            { ...tlsOptions("sender", "receiver"), path: socket, servername: "localhost" },
            fn,
          );
  const conn = start(() => {
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
  process.stderr.write("usage: raw-copy.ts receive SOCKET [TLSDIR] | send SOCKET BYTES [TLSDIR]\n");
  process.exit(2);
}
