// The reused read buffers of a borrowed-chunk reader: reads land side by side in a slot, a slot
// is reused once nothing points into it, and a read never lands on a piece still in use.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReadSlots } from "./read-slots.ts";

const KiB = 1024;

describe("read slots", () => {
  it("lands 16 KiB records side by side in one 64 KiB slot, then moves on", () => {
    const slots = new ReadSlots();
    const first = slots.window();
    assert.equal(first.length, 64 * KiB);
    for (let i = 0; i < 4; i++) {
      const window = slots.window();
      assert.equal(window.buffer, first.buffer);
      assert.equal(window.byteOffset, i * 16 * KiB);
      slots.landed(16 * KiB).refs++;
    }
    const next = slots.window();
    assert.notEqual(next.buffer, first.buffer);
    assert.equal(next.byteOffset, 0);
  });

  it("offers the whole slot again once nothing points into it", () => {
    const slots = new ReadSlots();
    const first = slots.window();
    const slot = slots.landed(10 * KiB);
    slot.refs++;
    assert.equal(slots.window().byteOffset, 10 * KiB);
    slot.refs--;
    const again = slots.window();
    assert.equal(again.buffer, first.buffer);
    assert.equal(again.byteOffset, 0);
  });

  it("never offers memory a piece still points into, and says when to pause", () => {
    const slots = new ReadSlots();
    const inUse: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const window = slots.window();
      for (const used of inUse)
        assert.ok(
          window.buffer !== used.buffer ||
            window.byteOffset >= used.byteOffset + used.length ||
            window.byteOffset + window.length <= used.byteOffset,
        );
      inUse.push(window.subarray(0, 64 * KiB));
      slots.landed(64 * KiB).refs++;
      // Six slots: room while two besides the one being filled are free.
      assert.equal(slots.hasRoom(), i < 4);
    }
    assert.equal(new Set(inUse.map((b) => b.buffer)).size, 12);
  });
});
