/**
 * What a message waiting for its reader counts against the stream's window beyond its bytes.
 * A decoded message held in the queue costs the heap far more than its bytes on the wire (its
 * object, the views of its fields, the queue's node: a few hundred bytes for a 64 B message), and
 * a window counted in bytes alone let a fast peer keep a window's worth of them queued (≈ 59,000
 * in 4 MiB), each surviving into the old generation. Charged 1 KiB each, once the peer waits for
 * credit the queue holds the window over ≈ 1 KiB a message (≈ 960 in 1 MiB; docs/performance.md
 * §28); large messages are held as before.
 */
export const heldMessageChargeBytes = 1024;

/**
 * One stream's receive side of HTTP/2 flow control, for either role: every byte received is
 * handed back to the peer as credit except those of messages waiting for their reader, each of
 * which holds back `heldMessageChargeBytes` more until it is taken. Every byte is credited once
 * the queue is empty, so a reader that catches up never leaves the peer short.
 */
export class HeldCredit {
  #received = 0;
  #held = 0;
  #credited = 0;

  /** Bytes of DATA received on the stream so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  received(bytes: number): void {
    this.#received += bytes;
  }

  /** A message of `bytes` is queued for the reader. */
  hold(bytes: number): void {
    this.#held += bytes + heldMessageChargeBytes;
  }

  /** The reader took a queued message of `bytes`. */
  take(bytes: number): void {
    this.#held -= bytes + heldMessageChargeBytes;
  }

  /** The credit to hand back now (0 for none), counted as handed back. */
  release(): number {
    const free = this.#received - this.#held - this.#credited;
    if (free <= 0) return 0;
    this.#credited += free;
    return free;
  }
}
