import { initialCreditBytes } from "./frames.ts";

/**
 * The receiving half of a call's message flow on the fast wire: what the sender has used of the
 * window this side granted. Bytes the consumer has taken (the call core's `Inbox` reports them)
 * are handed back as credit in batches of a quarter of the window, so a slow consumer slows its
 * sender down without stalling the connection.
 */
export class ReceiveWindow {
  readonly #grant: (bytes: number) => void;
  #taken = 0;
  /** Bytes received minus bytes granted back: what the sender has used of its window. */
  #outstanding = 0;

  /** `grant` sends credit for bytes consumed. */
  constructor(grant: (bytes: number) => void) {
    this.#grant = grant;
  }

  /**
   * False when the sender has no credit left: it used its whole window (a message larger than
   * the window may use it at once) and must wait for a credit frame. A message arriving then
   * breaks the protocol; the receiver resets the call rather than buffer it.
   */
  get acceptsMore(): boolean {
    return this.#outstanding < initialCreditBytes;
  }

  /** Bytes received and not yet handed back as credit (at most the window plus one message). */
  get bufferedBytes(): number {
    return this.#outstanding;
  }

  received(bytes: number): void {
    this.#outstanding += bytes;
  }

  taken(bytes: number): void {
    this.#taken += bytes;
    if (this.#taken >= initialCreditBytes / 4) {
      this.#outstanding -= this.#taken;
      this.#grant(this.#taken);
      this.#taken = 0;
    }
  }
}

/**
 * The sending half: how many bytes the receiver will still buffer. A message may be sent while
 * any credit is left (so one larger than the window still goes), then the sender waits.
 */
export class Credit {
  #bytes = initialCreditBytes;
  #waiter: (() => void) | undefined;

  get available(): boolean {
    return this.#bytes > 0;
  }

  spend(bytes: number): void {
    this.#bytes -= bytes;
  }

  add(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes > 0) this.#release();
  }

  /** Resolves when credit is available again or `release` is called (the call ended). */
  wait(): Promise<void> {
    if (this.#bytes > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Wakes a waiting sender (the call ended; it must look at the call's state). */
  release(): void {
    this.#release();
  }

  #release(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

/** Bytes of stream messages one connection sends in one turn of the event loop before yielding. */
export const turnBudgetBytes = 64 * 1024;

/**
 * What a connection's streams sent in the current turn of the event loop. A stream whose
 * messages come without waiting (an async generator that never awaits anything slow) runs in
 * microtasks; without a limit it would hold the event loop for a whole credit window: frames
 * stay queued (the writer flushes on the next tick, which waits for the microtasks), and no
 * credit, ping or other call is read. Past `turnBudgetBytes` a send waits for `setImmediate`,
 * which runs after the poll phase, so the socket is written and what arrived on it is handled.
 */
export class TurnBudget {
  #bytes = 0;
  #nextTurn: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** Counts `bytes`; returns a promise for the next turn once the budget is spent. */
  spend(bytes: number): Promise<void> | undefined {
    if (this.#nextTurn === undefined) {
      this.#nextTurn = new Promise((resolve) => {
        this.#resolve = resolve;
      });
      setImmediate(() => this.#turn());
    }
    this.#bytes += bytes;
    return this.#bytes >= turnBudgetBytes ? this.#nextTurn : undefined;
  }

  #turn(): void {
    const resolve = this.#resolve;
    this.#bytes = 0;
    this.#nextTurn = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
