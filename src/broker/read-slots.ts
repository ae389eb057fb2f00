/**
 * One reused read buffer (its own memory, so a view's byteOffset is its offset in the slot): how
 * much of it the current round of reads filled, and how many pieces (waiting or handed out) still
 * point into it.
 */
export interface Slot {
  readonly buffer: Buffer;
  used: number;
  refs: number;
}

/** Bytes of a slot: what Node reads from a plain socket at a time (four full TLS records). */
const slotBytes = 64 * 1024;
/** The smallest window offered: one full TLS record (16 KiB of plaintext). */
const minWindowBytes = 16 * 1024;
/** Slots read ahead into, made as needed (more only if reads land while all are in use). */
const slotsAhead = 6;

/**
 * The reused read buffers of a borrowed-chunk reader (src/broker/chunk-reader.ts), for Node's
 * `onread` with a buffer function: each read lands in a window of the current slot, so a TLS
 * socket's 16 KiB records land one after another in the same 64 KiB (and a plain socket's reads
 * fill it whole); a slot is reused once nothing points into it. Under TLS the reads do not stop
 * at once when the reader pauses: the records already received are all decrypted and delivered
 * (the rest of one 64 KiB read, docs/performance.md §17). So the reader pauses while two slots
 * are still free (`hasRoom`), and a read that finds none free gets a new slot rather than
 * overwriting a piece.
 */
export class ReadSlots {
  readonly #slots: Slot[] = [newSlot()];
  #current: Slot = this.#slots[0]!;

  /** Where the next read lands: the rest of the current slot, else a free (or new) slot. */
  window(): Buffer {
    let slot = this.#current;
    if (slot.refs === 0) slot.used = 0;
    if (slot.buffer.length - slot.used < minWindowBytes) {
      slot = this.#slots.find((s) => s.refs === 0 && s !== this.#current) ?? this.#grow();
      slot.used = 0;
      this.#current = slot;
    }
    return slot.buffer.subarray(slot.used);
  }

  /** `bytes` landed in the last window: returns its slot, whose `used` now counts them. */
  landed(bytes: number): Slot {
    this.#current.used += bytes;
    return this.#current;
  }

  /** Whether reads may go on: two slots (made or still to make) are free besides the current. */
  hasRoom(): boolean {
    let free = Math.max(0, slotsAhead - this.#slots.length);
    for (const slot of this.#slots) if (slot.refs === 0 && slot !== this.#current) free++;
    return free >= 2;
  }

  #grow(): Slot {
    const slot = newSlot();
    this.#slots.push(slot);
    return slot;
  }
}

function newSlot(): Slot {
  return { buffer: Buffer.allocUnsafeSlow(slotBytes), used: 0, refs: 0 };
}
