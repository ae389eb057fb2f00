/** Whole calls or replies queued in one turn before the queue is written out early. */
export const earlyWriteCalls = 16;

/**
 * When a framing's writer, which writes what one turn queued as one write, should write early:
 * once the turn has queued 16 whole calls or replies, then 32 more, 64 more, and so on. The peer
 * then starts on them on the other core while this side goes on with the rest, rather than the
 * two sides taking turns with a batch each (docs/performance.md, decision 21). Stream messages
 * are not counted: when streams run, both sides are busy, and more writes would only cost.
 */
export class EarlyWrites {
  #count = 0;
  #at = earlyWriteCalls;

  /** One more whole call or reply was queued; true when the queue should be written now. */
  counted(): boolean {
    if (++this.#count < this.#at) return false;
    this.#count = 0;
    this.#at *= 2;
    return true;
  }

  /** The turn is over: the next one counts from the start. */
  reset(): void {
    this.#count = 0;
    this.#at = earlyWriteCalls;
  }
}
