// The frame splitter on every split of a framed stream: the same payload bytes whichever way the
// socket cuts them, the end marker seen once, nothing copied out of a piece.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameSplitter } from "./frame-splitter.ts";

/** Frames `chunks` as framedWriter does, with the end marker unless `open`. */
function framed(chunks: readonly Buffer[], open = false): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(chunk.length, 0);
    parts.push(header, chunk);
  }
  if (!open) parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Feeds `wire` cut at `cuts` and returns the payload and whether the end was read. */
function split(wire: Buffer, cuts: readonly number[]): { payload: Buffer; ended: boolean } {
  const splitter = new FrameSplitter();
  const pieces: Buffer[] = [];
  let ended = false;
  let from = 0;
  for (const to of [...cuts, wire.length]) {
    ended = splitter.feed(wire.subarray(from, to), (piece) => pieces.push(piece));
    from = to;
  }
  return { payload: Buffer.concat(pieces), ended };
}

describe("frame splitter", () => {
  const payload = [Buffer.from("hello"), Buffer.from([1, 2, 3]), Buffer.alloc(300, 9)];
  const wire = framed(payload);

  it("gives the same bytes and the end for every single cut and many random ones", () => {
    const whole = Buffer.concat(payload);
    for (let cut = 0; cut <= wire.length; cut++)
      assert.deepEqual(split(wire, [cut]).payload, whole);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % wire.length;
    };
    for (let i = 0; i < 200; i++) {
      const cuts = Array.from({ length: 6 }, random).sort((a, b) => a - b);
      const result = split(wire, cuts);
      assert.deepEqual(result.payload, whole);
      assert.equal(result.ended, true);
    }
  });

  it("one byte at a time, headers split in every way", () => {
    const cuts = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(split(wire, cuts).payload, Buffer.concat(payload));
  });

  it("a stream without its end marker is not ended, wherever it stops", () => {
    const open = framed(payload, true);
    for (let stop = 0; stop <= open.length; stop++)
      assert.equal(split(open.subarray(0, stop), []).ended, false);
  });

  it("pieces are views of the chunk fed, not copies", () => {
    const splitter = new FrameSplitter();
    const pieces: Buffer[] = [];
    splitter.feed(wire, (piece) => pieces.push(piece));
    for (const piece of pieces) assert.equal(piece.buffer, wire.buffer);
  });

  it("ignores bytes after the end marker and a huge length costs no allocation", () => {
    const splitter = new FrameSplitter();
    const pieces: Buffer[] = [];
    const after = Buffer.concat([framed([Buffer.from("x")]), Buffer.from([0, 0, 0, 1, 42])]);
    assert.equal(
      splitter.feed(after, (piece) => pieces.push(piece)),
      true,
    );
    assert.deepEqual(Buffer.concat(pieces), Buffer.from("x"));
    const huge = new FrameSplitter();
    assert.equal(
      huge.feed(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), (piece) => pieces.push(piece)),
      false,
    );
  });
});
