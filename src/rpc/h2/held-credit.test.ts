import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeldCredit, heldMessageChargeBytes } from "./held-credit.ts";

const windowBytes = 4 * 1024 * 1024;
const prefixBytes = 5;

/**
 * A peer sending `messageBytes` messages (gRPC-framed) into a stream window of `windowBytes`,
 * credit handed back as `HeldCredit` releases it, and a reader that takes nothing: how many the
 * peer gets to send before its window is spent, and the receiver's state.
 */
function fillWindow(messageBytes: number): { sent: number; credit: HeldCredit; credited: number } {
  const credit = new HeldCredit();
  let window = windowBytes;
  let credited = 0;
  let sent = 0;
  while (window >= prefixBytes + messageBytes && sent < 1_000_000) {
    window -= prefixBytes + messageBytes;
    credit.received(prefixBytes + messageBytes);
    credit.hold(messageBytes);
    sent++;
    const free = credit.release();
    credited += free;
    window += free;
  }
  return { sent, credit, credited };
}

/**
 * A peer that sends two messages for each one its reader takes, for `rounds`: the longest queue
 * of the last quarter of the run, once the first window's burst has drained to the steady state.
 */
function slowReader(messageBytes: number, rounds: number): number {
  const credit = new HeldCredit();
  let window = windowBytes;
  let queued = 0;
  let longest = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 2 && window >= prefixBytes + messageBytes; i++) {
      window -= prefixBytes + messageBytes;
      credit.received(prefixBytes + messageBytes);
      credit.hold(messageBytes);
      queued++;
    }
    if (queued > 0) {
      credit.take(messageBytes);
      queued--;
    }
    window += credit.release();
    if (round >= (rounds * 3) / 4) longest = Math.max(longest, queued);
  }
  return longest;
}

describe("HeldCredit", () => {
  it("holds a reader that falls behind to a window's worth of charged messages, not of bytes", () => {
    const longest = slowReader(64, 400_000);
    // About the window over each message's bytes and charge (the prefixes are credited at once).
    const bound = Math.ceil((windowBytes / (64 + heldMessageChargeBytes)) * 1.01);
    assert.ok(longest <= bound, `${longest} queued, bound ${bound}`);
    assert.ok(longest >= bound / 2, `${longest} queued: the window still carries messages`);
    assert.ok(longest < windowBytes / (prefixBytes + 64) / 10, "far fewer than bytes alone allow");
  });

  it("hands back every byte once the reader has taken every message", () => {
    for (const size of [0, 64, 16 * 1024, 1024 * 1024]) {
      const { sent, credit, credited } = fillWindow(size);
      let total = credited;
      for (let i = 0; i < sent; i++) {
        credit.take(size);
        total += credit.release();
      }
      assert.equal(total, credit.receivedBytes, `${size} B messages`);
      assert.equal(credit.release(), 0);
    }
  });

  it("credits bytes that are not queued messages at once", () => {
    const credit = new HeldCredit();
    credit.received(100);
    assert.equal(credit.release(), 100);
    credit.received(69);
    credit.hold(64);
    assert.equal(credit.release(), 0, "a queued message holds back more than its bytes");
    credit.take(64);
    assert.equal(credit.release(), 69);
  });
});
