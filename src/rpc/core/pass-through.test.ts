import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Inbox } from "./inbox.ts";
import { deferred, mapIteratorErrors, onEarlyStop } from "./pass-through.ts";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function* numbers(n: number, fail?: Error) {
  for (let i = 0; i < n; i++) yield i;
  if (fail !== undefined) throw fail;
}

describe("Inbox", () => {
  it("hands queued messages out in order and reports each take", async () => {
    const taken: [number, number][] = [];
    const inbox = new Inbox<string>((bytes, queued) => taken.push([bytes, queued]));
    inbox.push("a", 1);
    inbox.push("b", 2);
    const iterator = inbox[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { done: false, value: "a" });
    assert.deepEqual(await iterator.next(), { done: false, value: "b" });
    assert.deepEqual(taken, [
      [1, 1],
      [2, 0],
    ]);
    // Once the stream has ended, taking what is left grants the sender nothing more.
    inbox.push("c", 3);
    inbox.end();
    assert.deepEqual(await collect(inbox), ["c"]);
    assert.equal(taken.length, 2);
  });

  it("gives a waiting consumer the next message, then the end", async () => {
    const inbox = new Inbox<number>();
    const iterator = inbox[Symbol.asyncIterator]();
    const first = iterator.next();
    const second = iterator.next(); // waits its turn behind the first
    inbox.push(1, 1);
    inbox.push(2, 1);
    assert.deepEqual(await first, { done: false, value: 1 });
    assert.deepEqual(await second, { done: false, value: 2 });
    const third = iterator.next();
    inbox.end();
    assert.deepEqual(await third, { done: true, value: undefined });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it("throws the error once after the queued messages, then is done", async () => {
    const inbox = new Inbox<number>();
    inbox.push(1, 1);
    inbox.end(new Error("boom"));
    const iterator = inbox[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { done: false, value: 1 });
    await assert.rejects(iterator.next(), /boom/);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it("fails a waiting consumer at once and drops what is queued", async () => {
    const inbox = new Inbox<number>();
    const iterator = inbox[Symbol.asyncIterator]();
    const waiting = iterator.next();
    inbox.fail(new Error("gone"));
    await assert.rejects(waiting, /gone/);
    const queued = new Inbox<number>();
    queued.push(1, 1);
    queued.fail(new Error("gone"));
    await assert.rejects(queued[Symbol.asyncIterator]().next(), /gone/);
  });

  it("ends a waiting next() when the consumer stops, so a later failure rejects nothing", async () => {
    const inbox = new Inbox<number>();
    const iterator = inbox[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await iterator.return?.();
    inbox.fail(new Error("the call was cancelled"));
    assert.deepEqual(await waiting, { done: true, value: undefined });
  });

  it("is done after return()", async () => {
    const inbox = new Inbox<number>();
    inbox.push(1, 1);
    const iterator = inbox[Symbol.asyncIterator]();
    await iterator.return?.();
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });
});

describe("deferred", () => {
  it("opens on the first next(), not before", async () => {
    let opened = 0;
    const iterable = deferred(() => {
      opened++;
      return numbers(3);
    });
    assert.equal(opened, 0);
    assert.deepEqual(await collect(iterable), [0, 1, 2]);
    assert.equal(opened, 1);
  });

  it("never opens when stopped before reading", async () => {
    let opened = 0;
    const iterator = deferred(() => {
      opened++;
      return numbers(3);
    });
    await iterator.return?.();
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    assert.equal(opened, 0);
  });

  it("rejects the first next() when opening throws, then is done", async () => {
    const iterator = deferred<number>(() => {
      throw new Error("cannot open");
    });
    await assert.rejects(iterator.next(), /cannot open/);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it("waits for a promised iterable, and its rejection is next()'s", async () => {
    assert.deepEqual(await collect(deferred(async () => numbers(2))), [0, 1]);
    const failing = deferred<number>(() => Promise.reject(new Error("no connection")));
    await assert.rejects(failing.next(), /no connection/);
    assert.deepEqual(await failing.next(), { done: true, value: undefined });
  });

  it("stops what it is opening when stopped meanwhile", async () => {
    let stopped = false;
    const inner: AsyncIterableIterator<number> = {
      next: () => Promise.resolve({ done: false, value: 1 }),
      return: () => {
        stopped = true;
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => inner,
    };
    const { promise, resolve } = Promise.withResolvers<AsyncIterable<number>>();
    const iterator = deferred(() => promise);
    const first = iterator.next();
    const stopping = iterator.return?.();
    resolve(inner);
    assert.deepEqual(await first, { done: true, value: undefined });
    await stopping;
    assert.equal(stopped, true);
  });
});

describe("mapIteratorErrors", () => {
  it("passes results through and replaces the error, then is done", async () => {
    const iterator = mapIteratorErrors(
      numbers(2, new Error("raw")),
      async (error) => new Error(`mapped: ${(error as Error).message}`),
    );
    assert.deepEqual(await iterator.next(), { done: false, value: 0 });
    assert.deepEqual(await iterator.next(), { done: false, value: 1 });
    await assert.rejects(iterator.next(), /mapped: raw/);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it("maps an error thrown when the source is opened", async () => {
    const source = {
      [Symbol.asyncIterator](): AsyncIterator<number> {
        throw new Error("raw");
      },
    };
    const iterator = mapIteratorErrors(source, () => new Error("mapped"));
    await assert.rejects(iterator.next(), /mapped/);
  });

  it("forwards return() to the source", async () => {
    let finallyRan = false;
    async function* source() {
      try {
        yield 1;
        yield 2;
      } finally {
        finallyRan = true;
      }
    }
    for await (const value of mapIteratorErrors(source(), (error) => error)) {
      assert.equal(value, 1);
      break;
    }
    assert.equal(finallyRan, true);
  });
});

describe("onEarlyStop", () => {
  it("runs onStop only when the consumer stops early", async () => {
    let stops = 0;
    assert.deepEqual(await collect(onEarlyStop(numbers(2), () => stops++)), [0, 1]);
    assert.equal(stops, 0);
    for await (const _ of onEarlyStop(numbers(5), () => stops++)) break;
    assert.equal(stops, 1);
  });
});
