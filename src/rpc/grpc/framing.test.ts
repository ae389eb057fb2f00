import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AllocationBudget, FrameDecoder } from "./framing.ts";

const MiB = 1024 * 1024;

/** A gRPC prefix announcing `length` bytes, then `body`. */
function frame(length: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, body]);
}

describe("FrameDecoder: memory a peer can make it hold", () => {
  it("5 bytes announcing 256 MiB hold nothing, with or without a budget", () => {
    for (const budget of [undefined, new AllocationBudget(64 * MiB)]) {
      const decoder = new FrameDecoder(256 * MiB, budget);
      assert.deepEqual(decoder.push(frame(256 * MiB)), []);
      assert.equal(decoder.bufferedBytes, 0);
      assert.equal(decoder.idle, false);
      assert.equal(budget?.left ?? 64 * MiB, 64 * MiB);
    }
  });

  it("a message within the budget gets its buffer when its prefix arrives, and hands the budget back", () => {
    const budget = new AllocationBudget(4 * MiB);
    const decoder = new FrameDecoder(256 * MiB, budget);
    const body = Buffer.alloc(MiB, 7);
    assert.deepEqual(decoder.push(frame(MiB, body.subarray(0, 10))), []);
    assert.equal(decoder.bufferedBytes, MiB);
    assert.equal(budget.left, 3 * MiB);
    const [message] = decoder.push(body.subarray(10));
    assert.ok(message !== undefined && Buffer.from(message).equals(body));
    assert.equal(budget.left, 4 * MiB);
    assert.equal(decoder.idle, true);
  });

  it("streams share the budget; one past it is kept as its pieces", () => {
    const budget = new AllocationBudget(3 * MiB);
    const first = new FrameDecoder(256 * MiB, budget);
    const second = new FrameDecoder(256 * MiB, budget);
    first.push(frame(2 * MiB, Buffer.alloc(100)));
    second.push(frame(2 * MiB, Buffer.alloc(100)));
    assert.equal(budget.left, MiB);
    assert.equal(first.bufferedBytes, 2 * MiB);
    assert.equal(second.bufferedBytes, 100);
  });

  it("one past the budget gets its buffer once half of it has arrived, borrowed pieces copied in", () => {
    const decoder = new FrameDecoder(256 * MiB, new AllocationBudget(MiB));
    const body = Buffer.alloc(4 * MiB);
    for (let i = 0; i < body.byteLength; i++) body[i] = i % 251;
    const read = Buffer.alloc(64 * 1024); // one buffer reused for every read, as a socket's
    const lend = (bytes: Buffer): Uint8Array[] => {
      bytes.copy(read);
      const out = decoder.push(read.subarray(0, bytes.byteLength), true);
      read.fill(0xee); // the next read overwrites it
      return out;
    };
    assert.deepEqual(lend(frame(4 * MiB, body.subarray(0, 1000))), []);
    let at = 1000;
    const pushUntil = (end: number) => {
      const out: Uint8Array[] = [];
      for (; at < end; at = Math.min(end, at + 60_000)) {
        out.push(...lend(body.subarray(at, Math.min(end, at + 60_000))));
      }
      return out;
    };
    assert.deepEqual(pushUntil(2 * MiB - 1), []);
    assert.equal(decoder.bufferedBytes, 2 * MiB - 1, "below half: the pieces received");
    assert.deepEqual(pushUntil(2 * MiB), []);
    assert.equal(decoder.bufferedBytes, 4 * MiB, "half: the message's buffer");
    const [message] = pushUntil(4 * MiB);
    assert.ok(message !== undefined && Buffer.from(message).equals(body));
    assert.equal(decoder.idle, true);
  });

  it("small messages take from the budget too: a thousand streams cannot each hold 64 KiB", () => {
    const budget = new AllocationBudget(100 * 1024);
    const decoders = Array.from({ length: 4 }, () => new FrameDecoder(MiB, budget));
    for (const decoder of decoders) decoder.push(frame(40 * 1024, Buffer.alloc(10)));
    assert.deepEqual(
      decoders.map((d) => d.bufferedBytes),
      [40 * 1024, 40 * 1024, 10, 10],
    );
    assert.equal(budget.left, 20 * 1024);
  });

  it("discard drops a partial message and hands its budget back; later messages take none", () => {
    const budget = new AllocationBudget(4 * MiB);
    const decoder = new FrameDecoder(256 * MiB, budget);
    decoder.push(frame(2 * MiB, Buffer.alloc(100)));
    assert.equal(budget.left, 2 * MiB);
    decoder.discard();
    assert.equal(budget.left, 4 * MiB);
    assert.equal(decoder.idle, true);
    decoder.push(frame(2 * MiB, Buffer.alloc(100)));
    assert.equal(budget.left, 4 * MiB);
  });

  it("a borrowed chunk's messages are copies; an owned chunk's are views", () => {
    const read = frame(3, Buffer.from([1, 2, 3]));
    const [owned] = new FrameDecoder(MiB).push(read);
    const [copied] = new FrameDecoder(MiB).push(read, true);
    read.fill(0);
    assert.deepEqual([...owned!], [0, 0, 0]);
    assert.deepEqual([...copied!], [1, 2, 3]);
  });
});
