// Issue 14, defect 10 (GRPCStdio): a slow `syncStdout` sink stops the host reading the plugin's
// stdio stream instead of buffering what the plugin prints.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { startFixture, waitFor } from "../../../test/support/fixture.ts";

describe("syncStdout back-pressure (issue 14, defect 10)", () => {
  for (const fastWire of [true, false]) {
    it(`stops reading the stdio stream while the sink is full (${fastWire ? "fast wire" : "gRPC"})`, async () => {
      const held: Array<() => void> = [];
      let received = 0;
      let releasing = false;
      const sink = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.byteLength;
          if (releasing) callback();
          else held.push(callback);
        },
      });
      const plugin = await startFixture("test-grpc", { syncStdout: sink, fastWire });
      try {
        const test = plugin.dispense("test");
        const total = 4 * 1024 * 1024;
        for (let i = 0; i < 4; i++)
          await test.printStdio({
            stdout: new Uint8Array(total / 4).fill(65),
            stderr: new Uint8Array(),
          });
        await waitFor(() => held.length > 0, 10_000, "the sink's first chunk");
        // Round trips on the same connection: time for the stream to deliver if it were read.
        for (let i = 0; i < 20; i++) await test.double({ Input: 1 });
        assert.ok(
          sink.writableLength <= 64 * 1024,
          `the host buffered ${sink.writableLength} bytes`,
        );
        releasing = true;
        for (const callback of held.splice(0)) callback();
        await waitFor(() => received === total, 20_000, "every byte to arrive");
      } finally {
        await plugin.kill();
      }
    });
  }
});
