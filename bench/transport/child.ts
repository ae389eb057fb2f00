// Processes of the transport bench:
//   child.ts serve IMPL SOCKET                  listens, prints "ready RSS_MIB", serves until killed
//   child.ts client IMPL SOCKET N DURATION_MS    prints {medianUs, p99Us, callsPerSec64}
// (The load + listen figure times `serve` from spawn to "ready".)
import { latencySummaryUs, msSince } from "../stats.ts";
import type { Impl } from "./impls.ts";
import { connect, listen } from "./impls.ts";

const [role, impl, socket = "", nArg = "2000", durationArg = "1000"] = process.argv.slice(2);

if (role === "serve") {
  await listen(impl as Impl, socket);
  process.stdout.write(`ready ${process.memoryUsage.rss() / 2 ** 20}\n`);
} else if (role === "client") {
  const echo = await connect(impl as Impl, socket);
  const payload = new Uint8Array(64).fill(7);
  for (let i = 0; i < 200; i++) await echo(payload);
  const n = Number(nArg);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const reply = await echo(payload);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (reply.byteLength !== 64) throw new Error(`echo returned ${reply.byteLength} bytes`);
  }
  const latency = latencySummaryUs(samples);
  let calls = 0;
  const durationMs = Number(durationArg);
  const stop = performance.now() + durationMs;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < stop) {
        await echo(payload);
        calls++;
      }
    }),
  );
  const callsPerSec64 = calls / (msSince(t0) / 1000);
  process.stdout.write(
    `${JSON.stringify({ medianUs: latency.medianUs, p99Us: latency.p99Us, callsPerSec64 })}\n`,
  );
  process.exit(0);
} else {
  process.stderr.write("usage: child.ts serve|client IMPL SOCKET [N DURATION_MS]\n");
  process.exit(2);
}
