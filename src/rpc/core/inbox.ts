import { iterationDone } from "./pass-through.ts";

/**
 * Messages received on one call, read by one consumer: a call's response stream on the client,
 * its request stream on the server, on every wire. The wire's flow control hangs on `onTake`:
 * it learns each time the consumer takes a message, with that message's size and how many are
 * still queued (the fast wire grants credit for the bytes, gRPC resumes a paused HTTP/2 stream).
 *
 * Its iterator answers from the queue, or hands a message that arrives to the consumer waiting
 * for it, without an async generator's promise hops (docs/performance.md, decision 18).
 */
export class Inbox<T> implements AsyncIterable<T> {
  readonly #onTake: ((bytes: number, queued: number) => void) | undefined;
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #ended = false;
  #error: unknown;
  /** The consumer has seen the end (or the error) or stopped reading: its iterator is done. */
  #stopped = false;
  /** The consumer's `next()` waiting for a message. */
  #waiter: PromiseWithResolvers<IteratorResult<T>> | undefined;

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
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#onTake?.(bytes, this.queued);
      waiter.resolve({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    this.#sizes.push(bytes);
  }

  /** No more messages: iteration ends after the queued ones, or throws `error` then. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#settleEnd(waiter);
    }
  }

  /** Fails at once: queued messages are dropped and the consumer sees `error` next. */
  fail(error: unknown): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#ended = false;
    this.end(error);
  }

  /** The one consumer's iterator; after the end, an error or `return()` it is done. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#next(),
      return: (value?: unknown) => {
        this.#stopped = true;
        // A `next()` still waiting ends too, rather than settle later (a rejection nobody awaits).
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.resolve(iterationDone);
        return Promise.resolve({ done: true, value } as IteratorReturnResult<T>);
      },
    };
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.#stopped) return Promise.resolve(iterationDone);
    // A second `next()` before the first has settled waits its turn, as with a generator.
    if (this.#waiter !== undefined) {
      const next = () => this.#next();
      return this.#waiter.promise.then(next, next);
    }
    if (this.#head < this.#items.length) return Promise.resolve(this.#take());
    const waiter = Promise.withResolvers<IteratorResult<T>>();
    if (this.#ended) this.#settleEnd(waiter);
    else this.#waiter = waiter;
    return waiter.promise;
  }

  #settleEnd(waiter: PromiseWithResolvers<IteratorResult<T>>): void {
    this.#stopped = true;
    if (this.#error === undefined) waiter.resolve(iterationDone);
    else waiter.reject(this.#error);
  }

  #take(): IteratorYieldResult<T> {
    const item = this.#items[this.#head]!;
    const bytes = this.#sizes[this.#head]!;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#sizes = [];
      this.#head = 0;
    }
    if (!this.#ended) this.#onTake?.(bytes, this.queued);
    return { done: false, value: item };
  }
}
