import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { IdTable } from "./id-table.ts";

/** A small deterministic generator (xorshift32), so a failure replays. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function assertSame(table: IdTable<object>, model: Map<number, object>): void {
  assert.equal(table.size, model.size);
  for (const [key, value] of model) assert.equal(table.get(key), value, `key ${key}`);
  const values = table.values();
  assert.equal(values.length, model.size);
  assert.deepEqual(new Set(values), new Set(model.values()));
}

function fill(table: IdTable<object>, count: number): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (let id = 1; id <= count; id++) {
    const value = { id, payload: new Array(16).fill(id) };
    refs.push(new WeakRef(value));
    table.set(id, value);
  }
  return refs;
}

describe("IdTable", () => {
  it("agrees with a Map through random sets, replacements and deletes", () => {
    for (const [seed, range] of [
      [1, 8],
      [2, 64],
      [3, 1000],
      [4, 2 ** 32],
    ] as const) {
      const next = random(seed);
      const table = new IdTable<object>();
      const model = new Map<number, object>();
      for (let step = 0; step < 20_000; step++) {
        const key = range === 2 ** 32 ? next() : next() % range;
        const op = next() % 10;
        if (op < 5) {
          const value = { key, step };
          table.set(key, value);
          model.set(key, value);
        } else {
          assert.equal(table.delete(key), model.delete(key), `delete ${key} at ${step}`);
        }
        assert.equal(table.has(key), model.has(key));
        if (step % 997 === 0) assertSame(table, model);
      }
      assertSame(table, model);
    }
  });

  it("keeps every entry of a long run of colliding keys when one in the middle goes", () => {
    // Sequential ids as the wires use them, a window of live calls sliding over them.
    const table = new IdTable<object>();
    const model = new Map<number, object>();
    for (let id = 1; id <= 50_000; id++) {
      const value = { id };
      table.set(id, value);
      model.set(id, value);
      const old = id - 64 - (id % 7) * 3;
      if (old > 0) assert.equal(table.delete(old), model.delete(old));
    }
    assertSame(table, model);
  });

  it("handles keys at both ends of the 32-bit range", () => {
    const table = new IdTable<string>();
    for (const key of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff])
      table.set(key, `v${key}`);
    assert.equal(table.size, 6);
    assert.equal(table.get(0xffffffff), "v4294967295");
    assert.equal(table.get(0), "v0");
    assert.equal(table.delete(0x80000000), true);
    assert.equal(table.get(0x80000000), undefined);
    assert.equal(table.size, 5);
  });

  it("inserts under keys no entry holds, never 0, wrapping past 2^32 - 1", () => {
    const table = new IdTable<string>();
    const a = table.insert("a");
    const b = table.insert("b");
    assert.notEqual(a, b);
    assert.equal(table.get(a), "a");
    table.set(b + 1, "taken");
    const c = table.insert("c");
    assert.notEqual(c, b + 1, "a key in use is skipped");
    assert.equal(table.get(b + 1), "taken");

    // Near the end of the range the next keys wrap to 1, skipping 0.
    const wrapping = new IdTable<string>();
    wrapping.set(0xffffffff, "last");
    for (let i = 0; i < 3; i++) wrapping.insert(`x${i}`);
    const keys: number[] = [];
    for (let key = 0; key < 8; key++) if (wrapping.has(key)) keys.push(key);
    assert.deepEqual(keys, [1, 2, 3]);
  });

  it("values() is a copy the caller may delete from while walking it", () => {
    const table = new IdTable<{ id: number }>();
    for (let id = 1; id <= 100; id++) table.set(id, { id });
    for (const value of table.values()) table.delete(value.id);
    assert.equal(table.size, 0);
    assert.deepEqual(table.values(), []);
  });

  it("shrinks back when emptied from a large size, and keeps working", () => {
    const table = new IdTable<number>();
    for (let id = 1; id <= 10_000; id++) table.set(id, id);
    for (let id = 1; id <= 10_000; id++) table.delete(id);
    assert.equal(table.size, 0);
    table.set(7, 7);
    assert.equal(table.get(7), 7);
    table.clear();
    assert.equal(table.get(7), undefined);
    assert.equal(table.size, 0);
  });

  it("holds nothing it no longer lists: deleted and cleared values can be collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const table = new IdTable<object>();
    // Made in a function of their own: a suspended async function keeps its last locals.
    const refs = fill(table, 2000);
    for (let id = 1; id <= 1000; id++) table.delete(id);
    // WeakRefs are kept alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs.slice(0, 1000).filter((ref) => ref.deref() !== undefined).length, 0);
    assert.equal(refs.slice(1000).filter((ref) => ref.deref() !== undefined).length, 1000);
    table.clear();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs.filter((ref) => ref.deref() !== undefined).length, 0);
  });
});
