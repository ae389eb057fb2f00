import { initialCreditBytes } from "./frames.ts";

/**
 * The receiving half of a call's message flow: messages as they arrive, read by one consumer.
 * Bytes the consumer has taken are handed back to the sender as credit, in batches of a quarter
 * of the window, so a slow consumer slows its sender down without stalling the connection.
 */
export class Inbox<T> implements AsyncIterable<T> {
  readonly #grant: (bytes: number) => void;
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #consumed = 0;
  /** Bytes received minus bytes granted back: what the sender has used of its window. */
  #outstanding = 0;

  /** `grant` sends credit for bytes consumed; it is not called once the inbox has ended. */
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

  push(item: T, bytes: number): void {
    if (this.#ended) return;
    this.#outstanding += bytes;
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#wake?.();
  }

  /** No more messages: iteration ends after the buffered ones, or throws `error` then. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  /** Fails at once, dropping buffered messages. */
  fail(error: unknown): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#ended = false;
    this.end(error);
  }

  get ended(): boolean {
    return this.#ended;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const item = this.#items[this.#head]!;
        this.#consumed += this.#sizes[this.#head]!;
        this.#head++;
        if (this.#head === this.#items.length) {
          this.#items = [];
          this.#sizes = [];
          this.#head = 0;
        }
        if (this.#consumed >= initialCreditBytes / 4 && !this.#ended) {
          this.#outstanding -= this.#consumed;
          this.#grant(this.#consumed);
          this.#consumed = 0;
        }
        yield item;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
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
