import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { Flag, FrameType, frameHeaderBytes } from "./frames.ts";
import { FrameWriter } from "./writer.ts";

/** A writer on a stream that records each write as the types of the frames in it. */
function recorded(): { writer: FrameWriter; writes: number[][] } {
  const socket = new PassThrough();
  const writes: number[][] = [];
  socket.on("data", (chunk: Buffer) => {
    const types: number[] = [];
    for (
      let at = 0;
      at + frameHeaderBytes <= chunk.length;
      at += frameHeaderBytes + chunk.readUIntBE(at, 3)
    )
      types.push(chunk[at + 3]!);
    writes.push(types);
  });
  return { writer: new FrameWriter(socket), writes };
}

const pingPayload = Buffer.alloc(8, 1);

/** Resolves after the event loop's next check phase (and what it scheduled). */
const pass = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe("h2 FrameWriter: a PING's ack goes out with the next frames", () => {
  it("an ack queued as a read is handled goes in one write with the reply the handler queues", async () => {
    const { writer, writes } = recorded();
    // As a socket read callback: the ack at once, the reply a few promise hops later.
    setImmediate(() => {
      writer.answer(FrameType.ping, Flag.ack, pingPayload);
      void Promise.resolve()
        .then(() => undefined)
        .then(() =>
          writer.frame(FrameType.headers, Flag.endHeaders | Flag.endStream, 1, Buffer.alloc(3)),
        );
    });
    await pass();
    assert.deepEqual(writes, [[FrameType.ping, FrameType.headers]]);
  });

  it("an ack with nothing after it goes out on its own once the pass is over", async () => {
    const { writer, writes } = recorded();
    setImmediate(() => writer.answer(FrameType.ping, Flag.ack, pingPayload));
    await pass();
    assert.deepEqual(writes, [[FrameType.ping]]);
  });

  it("nothing goes out once the writer is closed", async () => {
    const { writer, writes } = recorded();
    writer.answer(FrameType.ping, Flag.ack, pingPayload);
    writer.close();
    await pass();
    assert.deepEqual(writes, []);
  });
});
