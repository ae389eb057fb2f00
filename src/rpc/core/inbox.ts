/**
 * Messages received on one call, read by one consumer: a call's response stream on the client,
 * its request stream on the server, on every wire. The wire's flow control hangs on `onTake`:
 * it learns each time the consumer takes a message, with that message's size and how many are
 * still queued (the fast wire grants credit for the bytes, gRPC resumes a paused HTTP/2 stream).
 */
export class Inbox<T> implements AsyncIterable<T> {
  readonly #onTake: ((bytes: number, queued: number) => void) | undefined;
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;

  constructor(onTake?: (bytes: number, queued: number) => void) {
    this.#onTake = onTake;
  }

  /** Messages received and not yet taken. */
  get queued(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(item: T, bytes: number): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#wake?.();
  }

  /** No more messages: iteration ends after the queued ones, or throws `error` then. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  /** Fails at once: queued messages are dropped and the consumer sees `error` next. */
  fail(error: unknown): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#ended = false;
    this.end(error);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const item = this.#items[this.#head]!;
        const bytes = this.#sizes[this.#head]!;
        this.#head++;
        if (this.#head === this.#items.length) {
          this.#items = [];
          this.#sizes = [];
          this.#head = 0;
        }
        if (!this.#ended) this.#onTake?.(bytes, this.queued);
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
