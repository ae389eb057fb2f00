import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { Frame, FrameTypeNumber } from "./frames.ts";
import { CallFlag, FrameReader, FrameType, FrameWriter } from "./frames.ts";
import { decodeCallHead, encodeCallHead } from "./payloads.ts";

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

describe("fast wire frames read from a reused buffer (borrowed)", () => {
  /** Pushes `bytes` in `pieceBytes` reads through one buffer, scribbled over after each read. */
  function readBorrowed(bytes: Buffer, pieceBytes: number, upFrontBytes?: number) {
    const frames: Array<{ payload: Buffer; borrowed: boolean }> = [];
    const reader = new FrameReader(
      1 << 20,
      {
        // What a consumer of borrowed frames does: copy the payload if it is borrowed.
        frame: (f) =>
          frames.push({
            payload: f.borrowed ? Buffer.from(f.payload) : f.payload,
            borrowed: f.borrowed,
          }),
        oversize: () => {},
      },
      upFrontBytes,
    );
    const readBuffer = Buffer.alloc(pieceBytes);
    for (let at = 0; at < bytes.length; at += pieceBytes) {
      const piece = bytes.subarray(at, at + pieceBytes);
      piece.copy(readBuffer);
      reader.push(readBuffer.subarray(0, piece.length), true);
      readBuffer.fill(0xa5);
    }
    return frames;
  }

  const large = Buffer.alloc(200 * 1024);
  for (let i = 0; i < large.length; i++) large[i] = i % 251;
  const small = Buffer.from("small frame");
  const threeReplies = () =>
    written((writer) => {
      for (const [id, payload] of [small, large, small].entries())
        writer.frame(FrameType.reply, id + 1, undefined, [payload]);
    });

  it("a frame spread over reads keeps copies of its pieces (past the up-front bound)", async () => {
    const frames = readBorrowed(await threeReplies(), 16 * 1024);
    assert.deepEqual(
      frames.map((f) => f.payload.length),
      [small.length, large.length, small.length],
    );
    assert.ok(frames[1]!.payload.equals(large));
    assert.equal(frames[1]!.borrowed, false, "an assembled frame is its own buffer");
    assert.ok(frames[2]!.payload.equals(small));
  });

  it("and with a larger up-front bound, in one buffer allocated when its header arrives", async () => {
    const frames = readBorrowed(await threeReplies(), 16 * 1024, 1 << 20);
    assert.ok(frames[1]!.payload.equals(large));
    assert.equal(frames[1]!.borrowed, false);
  });

  it("a large frame holds the bytes received until half of it is there, then its own buffer", () => {
    const length = 1 << 20;
    const reader = new FrameReader(4 << 20, { frame: () => {}, oversize: () => {} });
    const head = Buffer.alloc(9);
    head.writeUInt32BE(length, 0);
    head[4] = FrameType.message;
    head.writeUInt32BE(1, 5);
    const read = Buffer.alloc(64 * 1024);
    const lend = (bytes: number) => {
      reader.push(read.subarray(0, bytes), true);
      read.fill(0x5a);
    };
    head.copy(read);
    lend(9 + 1000);
    let received = 1000;
    while (received + 60_000 < length / 2) {
      lend(60_000);
      received += 60_000;
    }
    assert.equal(reader.bufferedBytes, received, "below half: what arrived");
    lend(length / 2 - received);
    assert.equal(reader.bufferedBytes, length, "half: the payload's buffer");
  });

  it("of several frames in one borrowed read, the first is borrowed, the rest one copy", async () => {
    const bytes = await written((writer) => {
      for (const id of [1, 2, 3]) writer.frame(FrameType.message, id, undefined, [small]);
    });
    const seen: Frame[] = [];
    const reader = new FrameReader(1 << 20, { frame: (f) => seen.push(f), oversize: () => {} });
    const read = Buffer.from(bytes);
    reader.push(read, true);
    read.fill(0xa5); // the socket's next read
    assert.deepEqual(
      seen.map((f) => f.borrowed),
      [true, false, false],
    );
    assert.equal(seen[1]!.payload.buffer, seen[2]!.payload.buffer, "the rest shares one copy");
    assert.ok(seen[1]!.payload.equals(small) && seen[2]!.payload.equals(small));
  });

  it("a frame inside one read is handed over borrowed", async () => {
    const bytes = await written((writer) => writer.frame(FrameType.reply, 1, undefined, [small]));
    const frames = readBorrowed(bytes, 1024);
    assert.equal(frames[0]!.borrowed, true);
    assert.ok(frames[0]!.payload.equals(small));
  });
});

describe("fast wire writer: early writes within a turn", () => {
  /** The frame count of each write a turn of `frames` makes (each write: one arena piece). */
  async function writesOf(type: FrameTypeNumber, frames: number): Promise<number[]> {
    const socket = new PassThrough();
    const writes: number[] = [];
    socket.on("data", (chunk: Buffer) => writes.push(chunk.byteLength / (9 + 4)));
    const writer = new FrameWriter(socket);
    const body = [new Uint8Array(4)];
    for (let i = 0; i < frames; i++) writer.frame(type, i + 1, undefined, body);
    await new Promise((resolve) => setImmediate(resolve));
    return writes;
  }

  it("many replies in one turn go out as 16, then 32 more, then the rest at the turn's end", async () => {
    assert.deepEqual(await writesOf(FrameType.reply, 60), [16, 32, 12]);
    assert.deepEqual(await writesOf(FrameType.call, 20), [16, 4]);
  });

  it("a turn of fewer calls, or of stream messages, is one write", async () => {
    assert.deepEqual(await writesOf(FrameType.reply, 15), [15]);
    assert.deepEqual(await writesOf(FrameType.message, 100), [100]);
  });

  it("the count starts again in the next turn", async () => {
    const socket = new PassThrough();
    const writes: number[] = [];
    socket.on("data", (chunk: Buffer) => writes.push(chunk.byteLength / 13));
    const writer = new FrameWriter(socket);
    for (let turn = 0; turn < 2; turn++) {
      for (let i = 0; i < 10; i++)
        writer.frame(FrameType.reply, i + 1, undefined, [new Uint8Array(4)]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(writes, [10, 10]);
  });
});
