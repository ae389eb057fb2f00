import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Flag, FrameReader, FrameType, frameHeaderBytes, writeFrameHeader } from "./frames.ts";

interface Seen {
  type: number;
  flags: number;
  id: number;
  payload: string;
}

function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(frameHeaderBytes + payload.byteLength);
  writeFrameHeader(out, 0, payload.byteLength, type, flags, id);
  payload.copy(out, frameHeaderBytes);
  return out;
}

function reader(): { reader: FrameReader; seen: Seen[] } {
  const seen: Seen[] = [];
  const reader = new FrameReader({
    frame: (type, flags, id, payload) =>
      seen.push({ type, flags, id, payload: payload.toString() }),
    oversize: () => assert.fail("no frame is over the limit"),
  });
  return { reader, seen };
}

/** `bytes` fed in pieces cut at `cuts`. */
function feed(target: FrameReader, bytes: Buffer, cuts: number[]): void {
  let from = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    target.push(bytes.subarray(from, cut));
    from = cut;
  }
}

describe("h2 FrameReader", () => {
  it("hands an unpadded DATA frame spread over reads on as one DATA frame per read", () => {
    const payload = Buffer.from("0123456789abcdefghij");
    const bytes = Buffer.concat([
      frame(FrameType.data, Flag.endStream, 3, payload),
      frame(FrameType.ping, 0, 0, Buffer.alloc(8)),
    ]);
    const { reader: r, seen } = reader();
    feed(r, bytes, [frameHeaderBytes + 4, frameHeaderBytes + 15]);
    assert.deepEqual(
      seen.map((s) => [s.type, s.flags, s.id, s.payload]),
      [
        [FrameType.data, 0, 3, "0123"],
        [FrameType.data, 0, 3, "456789abcde"],
        [FrameType.data, Flag.endStream, 3, "fghij"],
        [FrameType.ping, 0, 0, "\0".repeat(8)],
      ],
    );
  });

  it("waits for a DATA frame's first byte when only its header has arrived", () => {
    const { reader: r, seen } = reader();
    feed(r, frame(FrameType.data, 0, 1, Buffer.from("xyz")), [frameHeaderBytes]);
    assert.deepEqual(
      seen.map((s) => s.payload),
      ["xyz"],
    );
  });

  it("keeps a padded DATA frame whole (its padding is at the end)", () => {
    const padded = Buffer.concat([Buffer.from([2]), Buffer.from("body"), Buffer.alloc(2)]);
    const { reader: r, seen } = reader();
    feed(r, frame(FrameType.data, Flag.padded | Flag.endStream, 5, padded), [11, 13]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.flags, Flag.padded | Flag.endStream);
    assert.equal(seen[0]!.payload, padded.toString());
  });

  it("keeps other frames spread over reads whole", () => {
    const { reader: r, seen } = reader();
    feed(r, frame(FrameType.settings, 0, 0, Buffer.alloc(12, 1)), [4, 12, 15]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.payload.length, 12);
  });

  it("of several frames in one borrowed read, the first is borrowed, the rest one copy", () => {
    const lent: boolean[] = [];
    const payloads: Buffer[] = [];
    const target: FrameReader = new FrameReader({
      frame: (_type, _flags, _id, payload) => {
        lent.push(target.borrowed);
        payloads.push(payload);
      },
      oversize: () => assert.fail("no frame is over the limit"),
    });
    const read = Buffer.concat(
      ["one", "two", "three"].map((text, i) =>
        frame(FrameType.data, 0, 2 * i + 1, Buffer.from(text)),
      ),
    );
    target.push(read, true);
    const first = payloads[0]!.toString();
    read.fill(0x5a); // the socket's next read
    assert.deepEqual(lent, [true, false, false]);
    assert.equal(first, "one");
    assert.deepEqual(
      payloads.slice(1).map((p) => p.toString()),
      ["two", "three"],
    );
    assert.equal(payloads[1]!.buffer, payloads[2]!.buffer, "the rest shares one copy");
  });
});
