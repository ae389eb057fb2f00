/**
 * Async iterators that hand each result straight through instead of wrapping the source in
 * another async generator. Every `async function*` with a `yield*` costs a promise and several
 * microtask turns per message at each layer; a response stream passes four such layers on its
 * way from the wire to the caller's `for await` (docs/performance.md, decision 18).
 *
 * Like generators they are read by one consumer at a time, as `for await` does.
 */

const done: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * An iterator over what `open()` gives (or promises), called on the first `next()`, as a
 * generator's body would run then. An error opening it is that `next()`'s, and ends the iterator.
 */
export function deferred<T>(
  open: () => AsyncIterable<T> | Promise<AsyncIterable<T>>,
): AsyncIterableIterator<T> {
  let inner: AsyncIterator<T> | undefined;
  let opening: Promise<AsyncIterator<T>> | undefined;
  let finished = false;
  const failOpen = (error: unknown): Promise<never> => {
    finished = true;
    return Promise.reject(error);
  };
  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (finished) return Promise.resolve(done);
      if (inner !== undefined) return inner.next();
      if (opening === undefined) {
        let opened: AsyncIterable<T> | Promise<AsyncIterable<T>>;
        try {
          opened = open();
        } catch (error) {
          return failOpen(error);
        }
        if (!(opened instanceof Promise)) {
          inner = opened[Symbol.asyncIterator]();
          return inner.next();
        }
        opening = opened.then((iterable) => {
          inner = iterable[Symbol.asyncIterator]();
          return inner;
        });
      }
      return opening.then((it) => (finished ? done : it.next()), failOpen);
    },
    return(value?: unknown) {
      finished = true;
      const ended = { done: true, value } as IteratorReturnResult<T>;
      if (inner === undefined && opening !== undefined) {
        // Stopped while opening: stop what opens, once it has.
        return opening.then(
          (it) => it.return?.(value) ?? ended,
          () => ended,
        );
      }
      return inner?.return?.(value) ?? Promise.resolve(ended);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * `source`'s results, with every error replaced by `map(error)`'s (a rejected promise's reason
 * when it returns one). After an error the iterator is done.
 */
export function mapIteratorErrors<T>(
  source: AsyncIterable<T>,
  map: (error: unknown) => unknown,
): AsyncIterableIterator<T> {
  let inner: AsyncIterator<T> | undefined;
  let finished = false;
  const fail = async (error: unknown): Promise<never> => {
    finished = true;
    throw await map(error);
  };
  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (finished) return Promise.resolve(done);
      try {
        inner ??= source[Symbol.asyncIterator]();
        return inner.next().then(undefined, fail);
      } catch (error) {
        return fail(error);
      }
    },
    return(value?: unknown) {
      finished = true;
      const result = inner?.return?.(value);
      return result === undefined
        ? Promise.resolve({ done: true, value } as IteratorReturnResult<T>)
        : result.then(undefined, fail);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** `source`'s results; `onStop` runs when the consumer stops before the end (`return()`). */
export function onEarlyStop<T>(
  source: AsyncIterator<T>,
  onStop: () => void,
): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next: () => source.next(),
    return(value?: unknown) {
      onStop();
      return (
        source.return?.(value) ?? Promise.resolve({ done: true, value } as IteratorReturnResult<T>)
      );
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export { done as iterationDone };
