// What a host's memory does during a long run of calls, split the way V8 reports it: RSS, heap
// total and used, external and array buffers, after a full GC at each tenth. Shows whether RSS
// growth is memory plugwire holds (heap used, external, array buffers grow) or V8 sizing its
// heap (only heap total grows). Run with --expose-gc; add --max-semi-space-size=1 to compare.
//   node --expose-gc bench/call-memory.ts [fast|grpc] [calls, default 500000]
import { startPlugin } from "../src/index.ts";
import { Fixture } from "../test/fixtures/gen/fixture_pb.js";

const wire = process.argv[2] === "grpc" ? "grpc" : "fast";
const total = Number(process.argv[3] ?? 500_000);
const client = await startPlugin({
  cmd: new URL("../test/fixtures/fixture-plugin", import.meta.url).pathname,
  args: ["test-grpc"],
  handshake: { magicCookieKey: "TEST_MAGIC_COOKIE", magicCookieValue: "test", protocolVersion: 1 },
  plugins: { fixture: Fixture },
  fastWire: wire === "fast",
});
const fixture = client.dispense("fixture");
const payload = new Uint8Array(64);
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
let next = 0;
for (let tenth = 1; tenth <= 10; tenth++) {
  const end = Math.round((total * tenth) / 10);
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < end) {
        next++;
        await fixture.echo({ payload });
      }
    }),
  );
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  console.log(
    JSON.stringify({
      wire,
      calls: end,
      rssMiB: mib(m.rss),
      heapTotalMiB: mib(m.heapTotal),
      heapUsedMiB: mib(m.heapUsed),
      externalMiB: mib(m.external),
      arrayBuffersMiB: mib(m.arrayBuffers),
    }),
  );
}
await client.kill();
