import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteArena } from "./write-arena.ts";

const joined = (pieces: Buffer[]) => Buffer.concat(pieces).toString();

describe("WriteArena", () => {
  it("keeps copied and appended bytes in the order they were queued", () => {
    const arena = new WriteArena();
    arena.copy(Buffer.from("ab"));
    arena.append(Buffer.from("CD"));
    arena.copy(Buffer.from("ef"));
    const at = arena.reserve(2);
    arena.buffer.write("gh", at);
    const taken = arena.take();
    assert.equal(joined(taken), "abCDefgh");
    assert.equal(taken.length, 3, "the arena's runs on either side of the appended piece");
    assert.deepEqual(arena.take(), [], "taken once");
  });

  it("never writes again over bytes already taken, and replaces a full arena", () => {
    const arena = new WriteArena();
    arena.copy(Buffer.from("first"));
    const first = arena.take();
    arena.copy(Buffer.from("second"));
    assert.equal(joined(first), "first", "what was taken is left alone");
    const big = Buffer.alloc(100 * 1024, 0x61);
    arena.copy(big); // larger than an arena: one of its size
    arena.copy(Buffer.from("z"));
    const taken = arena.take();
    assert.equal(joined(taken), `second${"a".repeat(big.length)}z`);
  });

  it("drops what is queued on clear", () => {
    const arena = new WriteArena();
    arena.copy(Buffer.from("gone"));
    arena.append(Buffer.from("also gone"));
    arena.clear();
    arena.copy(Buffer.from("kept"));
    assert.equal(joined(arena.take()), "kept");
  });

  it("appends a plain Uint8Array as a Buffer over the same memory", () => {
    const arena = new WriteArena();
    const bytes = new Uint8Array([1, 2, 3]);
    arena.append(bytes);
    const [piece] = arena.take();
    assert.ok(Buffer.isBuffer(piece));
    assert.equal(piece!.buffer, bytes.buffer);
  });
});
