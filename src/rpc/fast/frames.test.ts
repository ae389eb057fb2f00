import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { Frame } from "./frames.ts";
import {
  CallFlag,
  decodeCallHead,
  encodeCallHead,
  FrameReader,
  FrameType,
  FrameWriter,
} from "./frames.ts";

/** Frames written by a FrameWriter, as the bytes that reach the socket. */
async function written(write: (writer: FrameWriter) => void): Promise<Buffer> {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const writer = new FrameWriter(socket);
  write(writer);
  await new Promise((resolve) => process.nextTick(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return Buffer.concat(chunks);
}

function readAll(bytes: Buffer, pieceBytes: number, max = 1 << 20) {
  const frames: Array<{ type: number; id: number; payload: string }> = [];
  const oversize: Array<{ type: number; id: number; length: number }> = [];
  const reader = new FrameReader(max, {
    frame: (frame: Frame) =>
      frames.push({ type: frame.type, id: frame.id, payload: frame.payload.toString("latin1") }),
    oversize: (type, id, length) => oversize.push({ type, id, length }),
  });
  for (let i = 0; i < bytes.length; i += pieceBytes) reader.push(bytes.subarray(i, i + pieceBytes));
  return { frames, oversize, idle: reader.idle };
}

describe("fast wire frames", () => {
  it("batches the frames of one turn into one write and reads them back in any split", async () => {
    const big = Buffer.alloc(100_000, 7);
    const bytes = await written((writer) => {
      writer.frame(FrameType.message, 1, undefined, [Buffer.from("one")]);
      writer.frame(FrameType.end, 1);
      writer.frame(FrameType.message, 2, Buffer.from("he"), [Buffer.from("ad"), big]);
      writer.frame(FrameType.status, 3, Buffer.from([0]));
    });
    const expected = [
      { type: FrameType.message, id: 1, payload: "one" },
      { type: FrameType.end, id: 1, payload: "" },
      { type: FrameType.message, id: 2, payload: `head${big.toString("latin1")}` },
      { type: FrameType.status, id: 3, payload: "\0" },
    ];
    for (const piece of [1, 7, 9, 4096, bytes.length]) {
      const { frames, idle } = readAll(bytes, piece);
      assert.deepEqual(frames, expected, `split into ${piece}-byte reads`);
      assert.equal(idle, true);
    }
  });

  it("skips frames over the limit, reports them and reads on", async () => {
    const bytes = await written((writer) => {
      writer.frame(FrameType.message, 5, undefined, [Buffer.alloc(5000, 1)]);
      writer.frame(FrameType.message, 6, undefined, [Buffer.from("small")]);
    });
    for (const piece of [3, 1000, bytes.length]) {
      const { frames, oversize, idle } = readAll(bytes, piece, 1024);
      assert.deepEqual(oversize, [{ type: FrameType.message, id: 5, length: 5000 }]);
      assert.deepEqual(frames, [{ type: FrameType.message, id: 6, payload: "small" }]);
      assert.equal(idle, true);
    }
  });

  it("encodes call heads with path, timeout and metadata", () => {
    const head = encodeCallHead("/pkg.Svc/Do", CallFlag.message, 1500, { "x-a": "b" });
    const decoded = decodeCallHead(Buffer.concat([head, Buffer.from("msg")]));
    assert.equal(decoded.path, "/pkg.Svc/Do");
    assert.equal(decoded.timeoutMs, 1500);
    assert.deepEqual(decoded.metadata, { "x-a": "b" });
    assert.equal(decoded.flags & CallFlag.message, CallFlag.message);
    assert.equal(decoded.messageOffset, head.byteLength);
    const bare = decodeCallHead(encodeCallHead("/p.S/M", 0, undefined, undefined));
    assert.equal(bare.timeoutMs, undefined);
    assert.equal(bare.metadata, undefined);
    assert.throws(() => decodeCallHead(Buffer.from([CallFlag.metadata, 0, 0, 0, 0, 0, 1, 47])));
  });
});
