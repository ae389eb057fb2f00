/**
 * A table of live calls or streams by a 32-bit id: what every wire keeps per connection, in
 * place of a `Map` or `Set`. Measured, not taste (docs/performance.md §27): a V8 `Map`/`Set`
 * whose size swings with each batch of calls rehashes into a new backing table every few
 * inserts or deletes, and each table it leaves points at the next one. Once one such table
 * survives two scavenges (it sat through a pause), it is old, dead and still a root for the
 * young generation until the next full collection: every table after it and every call object
 * in them survive and are promoted. A TS plugin at 64 calls in flight spent 26 % of its CPU in
 * collections that way (scavenges of 10–20 ms, 214 MiB of RSS); with this table 9 % (89 MiB).
 *
 * Open addressing with linear probing over a typed array of keys and an array of values; a
 * deleted slot is filled by shifting later entries back (no tombstones), and a slot that holds
 * nothing holds `undefined`, so nothing dead stays reachable from the table. It grows at half
 * full and shrinks only when emptied from a large size.
 */
export class IdTable<T> implements ReadonlyIdTable<T> {
  #keys = new Uint32Array(0);
  #values: (T | undefined)[] = [];
  #mask = 0;
  #shift = 0;
  #size = 0;
  /** The next key `insert` tries. */
  #cursor = 1;

  constructor() {
    this.#allocate(initialSlots);
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    for (let i = this.#slot(id); ; i = (i + 1) & mask) {
      const value = values[i];
      if (value === undefined || keys[i] === id) return value;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Sets `id` (an unsigned 32-bit integer) to `value`, replacing what it held. */
  set(id: number, value: T): void {
    if ((this.#size + 1) * 2 > this.#values.length) this.#resize(this.#values.length * 2);
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    for (let i = this.#slot(id); ; i = (i + 1) & mask) {
      if (values[i] === undefined) {
        keys[i] = id;
        values[i] = value;
        this.#size++;
        return;
      }
      if (keys[i] === id) {
        values[i] = value;
        return;
      }
    }
  }

  /** Adds `value` under a key no entry holds and returns the key (never 0). */
  insert(value: T): number {
    let key = this.#cursor;
    while (key === 0 || this.has(key)) key = (key + 1) >>> 0;
    this.#cursor = (key + 1) >>> 0;
    this.set(key, value);
    return key;
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let hole = this.#slot(id);
    for (; ; hole = (hole + 1) & mask) {
      const value = values[hole];
      if (value === undefined) return false;
      if (keys[hole] === id) break;
    }
    // Shift back every later entry of the run whose home slot is not between the hole and it.
    for (let i = (hole + 1) & mask; values[i] !== undefined; i = (i + 1) & mask) {
      const home = this.#slot(keys[i]!);
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        keys[hole] = keys[i]!;
        values[hole] = values[i];
        hole = i;
      }
    }
    values[hole] = undefined;
    this.#size--;
    if (this.#size === 0 && values.length > shrinkFromSlots) this.clear();
    return true;
  }

  /** The values, in no particular order: a copy, so the caller may delete while it walks them. */
  values(): T[] {
    const out: T[] = [];
    for (const value of this.#values) if (value !== undefined) out.push(value);
    return out;
  }

  clear(): void {
    this.#values.fill(undefined);
    if (this.#values.length > initialSlots) this.#allocate(initialSlots);
    this.#size = 0;
  }

  /** Empty arrays of `slots` (a power of two) and the mask and shift that go with them. */
  #allocate(slots: number): void {
    this.#keys = new Uint32Array(slots);
    this.#values = new Array<T | undefined>(slots).fill(undefined);
    this.#mask = slots - 1;
    this.#shift = 32 - Math.log2(slots);
  }

  /** Fibonacci hashing: ids that count up (every wire's) spread over the slots. */
  #slot(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.#shift;
  }

  #resize(slots: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#allocate(slots);
    this.#size = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) this.set(keys[i]!, value);
    }
    values.fill(undefined); // the old array may be old-generation garbage: let it point at nothing
  }
}

/** What a reader of a table may do. */
export interface ReadonlyIdTable<T> {
  readonly size: number;
  get(id: number): T | undefined;
  has(id: number): boolean;
  values(): T[];
}

const initialSlots = 16;
/** A table emptied from more slots than this goes back to its initial size. */
const shrinkFromSlots = 4096;
