// net/rpc client and server against each other over an in-memory duplex pair: sequence matching,
// concurrency, cancellation, errors, and what a hostile peer may send. Go's real net/rpc is in
// interop.test.ts.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Duplex } from "node:stream";
import { duplexPair } from "node:stream";
import { describe, it } from "node:test";
import { waitFor } from "../../../test/support/wait.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import type { CallMessage } from "../../internal/diagnostics.ts";
import { NetRpcClient } from "./client.ts";
import type { NetRpcImpl } from "./define.ts";
import { define } from "./define.ts";
import { MessageReader, MessageWriter } from "./gob-stream.ts";
import { ErrorBody, RequestHeader, ResponseHeader, seqToWire } from "./header.ts";
import type { NetRpcServerOptions } from "./server.ts";
import { NetRpcServer } from "./server.ts";
import { netrpcClient } from "./typed-client.ts";

const KV = define({
  Put: {
    args: go.struct("PutRequest", { Key: go.string, Value: go.bytes }),
    reply: go.interface,
  },
  Get: { args: go.string, reply: go.bytes },
  Echo: { args: go.string, reply: go.string },
  Slow: { args: go.string, reply: go.string },
});

/** A KV whose `Slow` calls wait until the test releases them (by argument). */
function kvImpl() {
  const store = new Map<string, Uint8Array>();
  const waiting = new Map<string, () => void>();
  const seenSignals: AbortSignal[] = [];
  const impl: NetRpcImpl<typeof KV> = {
    Put({ Key, Value }) {
      store.set(Key, Value);
      return undefined;
    },
    Get(key) {
      const value = store.get(key);
      if (value === undefined) throw new Error(`key not found: ${key}`);
      return value;
    },
    Echo: (text) => text,
    async Slow(text, { signal }) {
      seenSignals.push(signal);
      await new Promise<void>((resolve) => waiting.set(text, resolve));
      return `slow ${text}`;
    },
  };
  return { impl, waiting, seenSignals, store };
}

interface Pair {
  client: NetRpcClient;
  server: NetRpcServer;
  served: Promise<void>;
  clientSide: Duplex;
  serverSide: Duplex;
  kv: ReturnType<typeof kvImpl>;
}

function connected(options: NetRpcServerOptions = {}): Pair {
  const [clientSide, serverSide] = duplexPair();
  const kv = kvImpl();
  const server = new NetRpcServer(options).register("Plugin", KV, kv.impl);
  const served = server.serve(serverSide);
  const client = new NetRpcClient(clientSide, { plugin: "kv" });
  return { client, server, served, clientSide, serverSide, kv };
}

async function rejects(
  promise: Promise<unknown>,
  code: string,
  text?: RegExp,
): Promise<PluginError> {
  const error = await promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PluginError, `not a PluginError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (text !== undefined) assert.match(error.message, text);
  return error;
}

describe("net/rpc client and server", () => {
  it("calls typed methods and gets typed replies", async () => {
    const { client, server, served } = connected();
    const kv = netrpcClient(client, "Plugin", KV);
    await kv.Put({ Key: "a", Value: new Uint8Array([1, 2, 3]) });
    const value: Uint8Array = await kv.Get("a");
    assert.deepEqual([...value], [1, 2, 3]);
    assert.equal(await kv.Echo("héllo ✓"), "héllo ✓");
    await client.close();
    await served;
    await server.close();
  });

  it("rejects a method's error as NETRPC_ERROR with Go's text, naming the plugin", async () => {
    const { client, server } = connected();
    const kv = netrpcClient(client, "Plugin", KV);
    const error = await rejects(kv.Get("nope"), "NETRPC_ERROR");
    assert.equal(error.rawMessage, "key not found: nope");
    assert.equal(error.details.error, "key not found: nope");
    assert.equal(error.plugin, "kv");
    assert.equal(await kv.Echo("after"), "after");
    await client.close();
    await server.close();
  });

  it("answers an unknown service, method or ill-formed name with Go's text and stays in step", async () => {
    const { client, server } = connected();
    const call = (name: string) => client.call(name, go.string, "x", go.string);
    const method = await rejects(call("Plugin.Nope"), "NETRPC_ERROR");
    assert.equal(method.rawMessage, "rpc: can't find method Plugin.Nope");
    const service = await rejects(call("Nope.Get"), "NETRPC_ERROR");
    assert.equal(service.rawMessage, "rpc: can't find service Nope.Get");
    const illFormed = await rejects(call("NoDot"), "NETRPC_ERROR");
    assert.equal(illFormed.rawMessage, "rpc: service/method request ill-formed: NoDot");
    assert.equal(await call("Plugin.Echo"), "x");
    await client.close();
    await server.close();
  });

  it("answers an argument of the wrong type with an error and stays in step", async () => {
    const { client, server } = connected();
    const wrong = go.struct("Other", { N: go.int });
    await rejects(client.call("Plugin.Echo", wrong, { N: 5 }, go.string), "NETRPC_ERROR");
    assert.equal(await client.call("Plugin.Echo", go.string, "ok", go.string), "ok");
    await client.close();
    await server.close();
  });

  it("matches 64 concurrent replies to their calls by sequence number, in any order", async () => {
    const { client, server, kv } = connected();
    const typed = netrpcClient(client, "Plugin", KV);
    const calls = Array.from({ length: 64 }, (_, i) => typed.Slow(String(i)));
    await waitFor(() => kv.waiting.size === 64, 5000, "64 running handlers");
    // Release them last first: answers go out in the reverse order of the calls.
    for (let i = 63; i >= 0; i--) kv.waiting.get(String(i))!();
    const replies = await Promise.all(calls);
    assert.deepEqual(
      replies,
      Array.from({ length: 64 }, (_, i) => `slow ${i}`),
    );
    await client.close();
    await server.close();
  });

  it("refuses arguments that do not fit their type before writing anything", async () => {
    const { client, server, clientSide } = connected();
    let written = 0;
    const write = clientSide.write.bind(clientSide);
    clientSide.write = ((chunk: Uint8Array, ...rest: never[]) => {
      written += chunk.byteLength;
      return write(chunk, ...rest);
    }) as typeof clientSide.write;
    const typed = netrpcClient(client, "Plugin", KV);
    // @ts-expect-error: a number is not a Go string
    const error = await rejects(typed.Echo(5), "GOB_TYPE", /Plugin\.Echo/);
    assert.equal(error.plugin, "kv");
    assert.equal(written, 0);
    assert.equal(await typed.Echo("fine"), "fine");
    await client.close();
    await server.close();
  });

  it("cancels and times out calls here at once; their late replies are read and dropped", async () => {
    const { client, server, kv } = connected();
    const typed = netrpcClient(client, "Plugin", KV);
    const controller = new AbortController();
    const cancelled = typed.Slow("c", { signal: controller.signal });
    const timedOut = typed.Slow("t", { timeoutMs: 20 });
    await waitFor(() => kv.waiting.size === 2, 5000, "two running handlers");
    controller.abort();
    await rejects(cancelled, "CANCELLED");
    await rejects(timedOut, "DEADLINE_EXCEEDED", /cannot cancel/);
    assert.equal(client.pending, 0);
    // The server never heard of either: net/rpc does not carry cancellation.
    assert.ok(kv.seenSignals.every((signal) => !signal.aborted));
    kv.waiting.get("c")!();
    kv.waiting.get("t")!();
    assert.equal(await typed.Echo("next"), "next");
    const aborted = AbortSignal.abort(new Error("stop"));
    await rejects(typed.Echo("x", { signal: aborted }), "CANCELLED", /stop/);
    await rejects(typed.Echo("x", { timeoutMs: -1 }), "CONFIG_INVALID");
    await client.close();
    await server.close();
  });

  it("rejects every pending call with UNAVAILABLE when the connection is lost, and later calls too", async () => {
    const { client, server, kv, serverSide } = connected();
    const typed = netrpcClient(client, "Plugin", KV);
    const pending = [typed.Slow("1"), typed.Slow("2")];
    await waitFor(() => kv.waiting.size === 2, 5000, "two running handlers");
    serverSide.destroy();
    for (const call of pending) {
      const error = await rejects(call, "UNAVAILABLE", /plugin kv: .*lost/);
      assert.equal(error.plugin, "kv");
    }
    await rejects(typed.Echo("x"), "UNAVAILABLE");
    assert.ok(client.closed);
    await waitFor(() => kv.seenSignals.every((signal) => signal.aborted), 5000, "handler signals");
    await server.close();
  });

  it("close() rejects pending calls with CLIENT_CLOSED, and later calls too", async () => {
    const { client, server, kv, served } = connected();
    const typed = netrpcClient(client, "Plugin", KV);
    const pending = typed.Slow("1");
    await waitFor(() => kv.waiting.size === 1, 5000, "a running handler");
    await client.close();
    await rejects(pending, "CLIENT_CLOSED");
    await rejects(typed.Echo("x"), "CLIENT_CLOSED");
    await served;
    await server.close();
  });

  it("publishes plugwire:call:start and call:end with wire netrpc", async () => {
    const { client, server } = connected();
    const seen: Array<[string, CallMessage]> = [];
    const onStart = (message: unknown) => seen.push(["start", message as CallMessage]);
    const onEnd = (message: unknown) => seen.push(["end", message as CallMessage]);
    subscribe("plugwire:call:start", onStart);
    subscribe("plugwire:call:end", onEnd);
    try {
      await client.call("Plugin.Echo", go.string, "x", go.string);
      await rejects(client.call("Plugin.Get", go.string, "x", go.bytes), "NETRPC_ERROR");
    } finally {
      unsubscribe("plugwire:call:start", onStart);
      unsubscribe("plugwire:call:end", onEnd);
    }
    assert.deepEqual(
      seen.map(([what, m]) => [what, m.path, m.wire, m.kind]),
      [
        ["start", "Plugin.Echo", "netrpc", "unary"],
        ["end", "Plugin.Echo", "netrpc", "unary"],
        ["start", "Plugin.Get", "netrpc", "unary"],
        ["end", "Plugin.Get", "netrpc", "unary"],
      ],
    );
    assert.equal(typeof seen[1]![1].durationMs, "number");
    assert.equal(seen[1]![1].error, undefined);
    assert.ok(seen[3]![1].error instanceof PluginError);
    await client.close();
    await server.close();
  });
});

describe("net/rpc server", () => {
  it("sends a handler's error message as Go's error text, a PluginError's as it is", async () => {
    const reported: string[] = [];
    const [clientSide, serverSide] = duplexPair();
    const Thrower = define({
      Plain: { args: go.string, reply: go.string },
      Coded: { args: go.string, reply: go.string },
      Empty: { args: go.string, reply: go.string },
      BadReply: { args: go.string, reply: go.int },
      Nothing: { args: go.string, reply: go.struct("main.Reply", { N: go.int, S: go.string }) },
    });
    const server = new NetRpcServer({
      onError: (e, method) => reported.push(`${method}: ${e.code}`),
    });
    server.register("T", Thrower, {
      Plain() {
        throw new Error("plain failure");
      },
      async Coded() {
        throw new PluginError("NOT_FOUND", "no such thing");
      },
      Empty() {
        throw new Error("");
      },
      // @ts-expect-error: a string is not a Go int
      BadReply: () => "not a number",
      Nothing: () => undefined,
    });
    void server.serve(serverSide);
    const client = new NetRpcClient(clientSide);
    const t = netrpcClient(client, "T", Thrower);
    // The first answer on the connection does not fit: the stream still works afterwards.
    assert.match(
      (await rejects(t.BadReply("x"), "NETRPC_ERROR")).rawMessage,
      /reply of T\.BadReply/,
    );
    assert.deepEqual(await t.Nothing("x"), { N: 0, S: "" });
    assert.equal((await rejects(t.Plain("x"), "NETRPC_ERROR")).rawMessage, "plain failure");
    assert.equal(
      (await rejects(t.Coded("x"), "NETRPC_ERROR")).rawMessage,
      "[NOT_FOUND] no such thing",
    );
    assert.match((await rejects(t.Empty("x"), "NETRPC_ERROR")).rawMessage, /without a message/);
    assert.deepEqual(reported, ["T.BadReply: GOB_TYPE", "T.Plain: UNKNOWN", "T.Empty: UNKNOWN"]);
    await client.close();
    await server.close();
  });

  it("serves many connections, each with its own gob streams", async () => {
    const kv = kvImpl();
    const server = new NetRpcServer().register("Plugin", KV, kv.impl);
    const clients = Array.from({ length: 3 }, () => {
      const [clientSide, serverSide] = duplexPair();
      void server.serve(serverSide);
      return netrpcClient(new NetRpcClient(clientSide), "Plugin", KV);
    });
    await clients[0]!.Put({ Key: "shared", Value: new Uint8Array([7]) });
    for (const c of clients) assert.deepEqual([...(await c.Get("shared"))], [7]);
    await server.close();
    await rejects(clients[1]!.Echo("x"), "UNAVAILABLE");
  });

  it("runs at most maxConcurrentCalls handlers of a connection at once, then the rest", async () => {
    const { client, server, kv } = connected({ maxConcurrentCalls: 2 });
    const typed = netrpcClient(client, "Plugin", KV);
    const calls = ["a", "b", "c", "d"].map((k) => typed.Slow(k));
    await waitFor(() => kv.waiting.size === 2, 5000, "two running handlers");
    kv.waiting.get("a")!();
    await waitFor(() => kv.waiting.size === 3, 5000, "a third handler");
    for (const k of ["b", "c"]) kv.waiting.get(k)!();
    await waitFor(() => kv.waiting.size === 4, 5000, "the fourth handler");
    kv.waiting.get("d")!();
    assert.deepEqual(await Promise.all(calls), ["slow a", "slow b", "slow c", "slow d"]);
    await client.close();
    await server.close();
  });

  it("aborts the handlers' signal when their connection ends, and serve() resolves", async () => {
    const { client, kv, served } = connected();
    const typed = netrpcClient(client, "Plugin", KV);
    const call = typed.Slow("x");
    await waitFor(() => kv.waiting.size === 1, 5000, "a running handler");
    await client.close();
    await rejects(call, "CLIENT_CLOSED");
    await served;
    await waitFor(() => kv.seenSignals[0]!.aborted, 5000, "the handler's signal");
  });

  it("refuses a registration it cannot serve", () => {
    const server = new NetRpcServer();
    assert.throws(
      // @ts-expect-error: Get is missing
      () => server.register("Plugin", KV, { Put: () => undefined, Echo: (s) => s, Slow: (s) => s }),
      (e: unknown) =>
        e instanceof PluginError && e.code === "CONFIG_INVALID" && /Get/.test(e.message),
    );
    server.register("Plugin", KV, kvImpl().impl);
    assert.throws(() => server.register("Plugin", KV, kvImpl().impl), /already defined/);
    assert.throws(
      () => define({ lower: { args: go.string, reply: go.string } }),
      /exported Go name/,
    );
  });
});

/** A client facing a hand-driven server side, for answers a real server never sends. */
function hostile() {
  const [clientSide, serverSide] = duplexPair();
  const client = new NetRpcClient(clientSide, { plugin: "evil" });
  const writer = new MessageWriter();
  const requests: number[] = [];
  const reader = new MessageReader(
    RequestHeader,
    { bodyType: () => undefined, message: (header) => requests.push(Number(header.Seq)) },
    { maxMessageBytes: 1 << 20, registry: undefined },
  );
  serverSide.on("data", (chunk: Uint8Array) => reader.push(chunk));
  const answer = (seq: number, reply: string, error = "") =>
    serverSide.write(
      error === ""
        ? writer.encode(
            ResponseHeader,
            { ServiceMethod: "P.M", Seq: seqToWire(seq), Error: "" },
            go.string,
            reply,
          )
        : writer.encode(
            ResponseHeader,
            { ServiceMethod: "P.M", Seq: seqToWire(seq), Error: error },
            ErrorBody,
            {},
          ),
    );
  const call = () => client.call("P.M", go.string, "x", go.string);
  return { client, serverSide, requests, answer, call };
}

describe("net/rpc client facing a hostile server", () => {
  it("drops a second answer to a call, and takes the next call's own", async () => {
    const h = hostile();
    const first = h.call();
    await waitFor(() => h.requests.length === 1, 5000, "the request");
    h.answer(0, "one");
    h.answer(0, "again");
    assert.equal(await first, "one");
    const second = h.call();
    await waitFor(() => h.requests.length === 2, 5000, "the second request");
    h.answer(1, "two");
    assert.equal(await second, "two");
    await h.client.close();
  });

  it("fails every pending call when the server answers a call never made", async () => {
    const h = hostile();
    const calls = [h.call(), h.call()];
    await waitFor(() => h.requests.length === 2, 5000, "the requests");
    h.answer(99, "what");
    for (const call of calls) await rejects(call, "INTERNAL", /plugin evil: .*never made/);
    await rejects(h.call(), "INTERNAL");
  });

  it("fails every pending call with GOB_INVALID on garbage, without crashing", async () => {
    const h = hostile();
    const calls = [h.call(), h.call()];
    await waitFor(() => h.requests.length === 2, 5000, "the requests");
    h.serverSide.write(new Uint8Array([0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13]));
    for (const call of calls) await rejects(call, "GOB_INVALID", /plugin evil: .*malformed/);
    assert.ok(h.client.closed);
  });

  it("fails one call with GOB_TYPE when its reply does not fit, and stays in step", async () => {
    const h = hostile();
    const bytes = h.client.call("P.M", go.string, "x", go.bytes);
    await waitFor(() => h.requests.length === 1, 5000, "the request");
    h.answer(0, "a string, not bytes");
    await rejects(bytes, "GOB_TYPE", /reply of P\.M/);
    const next = h.call();
    await waitFor(() => h.requests.length === 2, 5000, "the second request");
    h.answer(1, "fine");
    assert.equal(await next, "fine");
    await h.client.close();
  });
});
