import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http2";
import type { Server } from "node:net";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureService } from "../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../test/fixtures/gen/fixture_pb.js";
import { waitFor } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { createClient } from "./core/client.ts";
import type { Channel } from "./core/types.ts";
import { implement } from "./core/types.ts";
import { FastChannel } from "./fast/channel.ts";
import { fastWirePreface } from "./fast/frames.ts";
import { FastServerConnection } from "./fast/server.ts";
import { RpcChannel } from "./grpc/channel.ts";
import { RpcServer } from "./grpc/server.ts";
import { H2Channel } from "./h2/client.ts";
import { createH2Listener } from "./h2/listener.ts";

const limit = 1024 * 1024;

/** A server for `rpc` on a unix socket and a channel to it, over one of the two wires. */
interface Wire {
  readonly name: string;
  listen(rpc: RpcServer, path: string): Promise<() => Promise<void>>;
  channel(path: string, options?: { maxSendMessageBytes?: number }): Channel;
}

const grpcWire: Wire = {
  name: "gRPC over node:http2",
  async listen(rpc, path) {
    const server = createServer();
    rpc.attach(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  },
  channel: (path, options) =>
    new RpcChannel({ connect: () => connect(path), maxReceiveMessageBytes: limit, ...options }),
};

const fastWire: Wire = {
  name: "plugwire's fast wire",
  async listen(rpc, path) {
    const connections = new Set<FastServerConnection>();
    const server: Server = createNetServer((socket) => {
      socket.once("data", (first: Buffer) => {
        assert.ok(first.subarray(0, fastWirePreface.byteLength).equals(fastWirePreface));
        const connection = new FastServerConnection(
          rpc,
          socket,
          first.subarray(fastWirePreface.byteLength),
        );
        connections.add(connection);
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return async () => {
      await Promise.all([...connections].map((connection) => connection.close(100)));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  },
  channel: (path, options) =>
    new FastChannel({ connect: () => connect(path), maxReceiveMessageBytes: limit, ...options }),
};

/** plugwire's own HTTP/2 framing (src/rpc/h2) as the client, node:http2 serving. */
const h2ClientWire: Wire = {
  name: "gRPC: plugwire's h2 client to a node:http2 server",
  listen: grpcWire.listen,
  channel: (path, options) =>
    new H2Channel({ connect: () => connect(path), maxReceiveMessageBytes: limit, ...options }),
};

/** plugwire's own HTTP/2 framing serving (node:http2 as the client, then both sides ours). */
async function listenH2(rpc: RpcServer, path: string): Promise<() => Promise<void>> {
  const listener = createH2Listener(rpc, undefined);
  await new Promise<void>((resolve) => listener.server.listen(path, resolve));
  return () => listener.close(100);
}
const h2ServerWire: Wire = {
  name: "gRPC: a node:http2 client to plugwire's h2 server",
  listen: listenH2,
  channel: grpcWire.channel,
};
const h2Wire: Wire = {
  name: "gRPC on plugwire's h2 framing, both sides",
  listen: listenH2,
  channel: h2ClientWire.channel,
};

for (const wire of [grpcWire, fastWire, h2ClientWire, h2ServerWire, h2Wire]) {
  describe(wire.name, () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-rpc-"));
    const socket = join(dir, "s");
    const rpc = new RpcServer({ maxReceiveMessageBytes: limit }).register(
      fixtureService(),
      headerEcho(),
    );
    const channel = wire.channel(socket);
    const client = createClient(Fixture, channel);
    let stop: () => Promise<void> = async () => {};

    before(async () => {
      stop = await wire.listen(rpc, socket);
    });
    after(async () => {
      channel.close();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("makes unary calls", async () => {
      const payload = new Uint8Array([1, 2, 3]);
      const reply = await client.echo({ payload });
      assert.deepEqual([...reply.payload], [...payload]);
    });

    it("streams from the server, to the server, and both ways", async () => {
      const seen: number[] = [];
      for await (const r of client.count({ n: 5 })) seen.push(r.i);
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);

      async function* values() {
        for (let i = 1n; i <= 10n; i++) yield { value: i };
      }
      const sum = await client.sum(values());
      assert.equal(sum.total, 55n);
      assert.equal(sum.count, 10);

      async function* payloads() {
        for (const b of ["a", "b", "c"]) yield { payload: Buffer.from(b) };
      }
      const echoed: string[] = [];
      for await (const r of client.echoStream(payloads()))
        echoed.push(Buffer.from(r.payload).toString());
      assert.deepEqual(echoed, ["a", "b", "c"]);
    });

    it("carries the deadline to the handler and fails with DEADLINE_EXCEEDED", async () => {
      const fast = await client.sleep({ durationMs: 1 }, { timeoutMs: 5000 });
      assert.ok(fast.deadlineRemainingMs > 4000 && fast.deadlineRemainingMs <= 5000);
      const before = (await client.cancelled({})).cancelled;
      await assert.rejects(
        client.sleep({ durationMs: 10_000 }, { timeoutMs: 100 }),
        (e: unknown) => {
          return e instanceof PluginError && e.code === "DEADLINE_EXCEEDED";
        },
      );
      await waitFor(async () => (await client.cancelled({})).cancelled === before + 1);
    });

    it("cancels the handler when the caller aborts", async () => {
      const before = (await client.cancelled({})).cancelled;
      const controller = new AbortController();
      const call = client.sleep({ durationMs: 10_000 }, { signal: controller.signal });
      setImmediate(() => controller.abort(new Error("user gave up")));
      await assert.rejects(
        call,
        (e: unknown) => e instanceof PluginError && e.code === "CANCELLED",
      );
      await waitFor(async () => (await client.cancelled({})).cancelled === before + 1);
    });

    it("rejects messages over the receive limit with RESOURCE_EXHAUSTED", async () => {
      await assert.rejects(
        client.echo({ payload: new Uint8Array(2 * 1024 * 1024) }),
        (e: unknown) => {
          return e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED";
        },
      );
      // The channel still works afterwards.
      assert.equal((await client.echo({ payload: new Uint8Array(10) })).payload.length, 10);
    });

    it("answers unknown methods with UNIMPLEMENTED", async () => {
      const { KV } = await import("../../examples/kv/gen/kv_pb.js");
      const kv = createClient(KV, channel);
      await assert.rejects(kv.get({ key: "x" }), (e: unknown) => {
        return (
          e instanceof PluginError &&
          e.code === "UNIMPLEMENTED" &&
          /unknown service proto.KV/.test(e.message)
        );
      });
    });

    it("passes request metadata to the handler", async () => {
      const seen = await headersSeen(channel, { "x-trace": "abc" });
      assert.equal(seen, "abc");
    });

    it("hands the handler the caller's metadata and :path, the same on every wire", async () => {
      await headersSeen(channel, { "x-trace": "abc", "x-other": "1" }, { timeoutMs: 5000 });
      assert.deepEqual(Object.keys(lastHeaders).sort(), [":path", "x-other", "x-trace"]);
      assert.equal(lastHeaders[":path"], "/grpc.health.v1.Health/Check");
    });

    it("refuses an oversize request before any stream is opened", async () => {
      const opened: string[] = [];
      const counting = new (class extends RpcServer {
        override open(...args: Parameters<RpcServer["open"]>) {
          opened.push(args[0].path);
          return super.open(...args);
        }
      })({ maxReceiveMessageBytes: limit }).register(fixtureService());
      const path = join(dir, "oversize");
      const stopCounting = await wire.listen(counting, path);
      const small = wire.channel(path, { maxSendMessageBytes: 64 });
      try {
        const fixture = createClient(Fixture, small);
        await assert.rejects(
          fixture.echo({ payload: new Uint8Array(1024) }, { timeoutMs: 60_000 }),
          (e: unknown) => e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED",
        );
        // The channel still works, and the server saw only the call that fit.
        await fixture.echo({ payload: new Uint8Array(8) });
        assert.deepEqual(opened, ["/plugwire.fixture.Fixture/Echo"]);
      } finally {
        small.close();
        await stopCounting();
      }
    });

    it("publishes plugwire:call:start and plugwire:call:end for every call", async () => {
      const seen: Array<{ name: string; message: Record<string, unknown> }> = [];
      const onStart = (message: unknown) =>
        seen.push({ name: "start", message: message as Record<string, unknown> });
      const onEnd = (message: unknown) =>
        seen.push({ name: "end", message: message as Record<string, unknown> });
      subscribe("plugwire:call:start", onStart);
      subscribe("plugwire:call:end", onEnd);
      try {
        await client.echo({ payload: new Uint8Array([1]) });
        await assert.rejects(client.sleep({ durationMs: 60_000 }, { timeoutMs: 1 }));
      } finally {
        unsubscribe("plugwire:call:start", onStart);
        unsubscribe("plugwire:call:end", onEnd);
      }
      assert.deepEqual(
        seen.map((s) => `${s.name} ${String(s.message.path)} ${String(s.message.kind)}`),
        [
          "start /plugwire.fixture.Fixture/Echo unary",
          "end /plugwire.fixture.Fixture/Echo unary",
          "start /plugwire.fixture.Fixture/Sleep unary",
          "end /plugwire.fixture.Fixture/Sleep unary",
        ],
      );
      assert.equal(seen[1]!.message.error, undefined);
      assert.equal(typeof seen[1]!.message.durationMs, "number");
      assert.equal((seen[3]!.message.error as PluginError).code, "DEADLINE_EXCEEDED");
      assert.equal(seen[0]!.message.wire, wire.name.startsWith("gRPC") ? "grpc" : "fast");
    });
  });
}

/** A health service that answers SERVING only when the request carried `x-trace: abc`. */
let lastHeaders: Readonly<Record<string, unknown>> = {};

function headerEcho() {
  return implement(Health, {
    check: (_request, context) => {
      lastHeaders = context.requestHeaders;
      return {
        status:
          context.requestHeaders["x-trace"] === "abc"
            ? HealthCheckResponse_ServingStatus.SERVING
            : HealthCheckResponse_ServingStatus.NOT_SERVING,
      };
    },
    async *watch() {},
  });
}

async function headersSeen(
  channel: Channel,
  headers: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<string> {
  const reply = await createClient(Health, channel).check({ service: "" }, { ...options, headers });
  return reply.status === HealthCheckResponse_ServingStatus.SERVING ? "abc" : "other";
}

describe("plugwire's fast wire: flow, sizes and connection faults", () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-fast-"));
  const socket = join(dir, "s");
  const big = 64 * 1024 * 1024;
  const rpc = new RpcServer({ maxReceiveMessageBytes: big }).register(fixtureService());
  let stop: () => Promise<void> = async () => {};

  before(async () => {
    stop = await fastWire.listen(rpc, socket);
  });
  after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () =>
    new FastChannel({ connect: () => connect(socket), maxReceiveMessageBytes: big });

  it("moves 16 MiB messages both ways byte for byte (sent by reference)", async () => {
    const channel = open();
    const payload = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32BE(i, i);
    const reply = await createClient(Fixture, channel).echo({ payload });
    assert.equal(reply.payload.byteLength, payload.byteLength);
    assert.ok(Buffer.from(reply.payload).equals(payload));
    channel.close();
  });

  it("keeps many concurrent calls apart", async () => {
    const channel = open();
    const client = createClient(Fixture, channel);
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) => client.echo({ payload: Buffer.from(`call ${i}`) })),
    );
    replies.forEach((reply, i) => {
      assert.equal(Buffer.from(reply.payload).toString(), `call ${i}`);
    });
    channel.close();
  });

  it("slows a server stream down to its reader (credit), without losing messages", async () => {
    const channel = open();
    const client = createClient(Fixture, channel);
    let received = 0;
    for await (const message of client.count({ n: 50_000 })) {
      assert.equal(message.i, received);
      received++;
      if (received % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(received, 50_000);
    channel.close();
  });

  it("fails pending calls with UNAVAILABLE when the connection drops, then reconnects", async () => {
    const channel = open();
    const client = createClient(Fixture, channel);
    await client.echo({ payload: Buffer.from("warm") });
    const pending = assert.rejects(client.sleep({ durationMs: 10_000 }), (e: unknown) => {
      return e instanceof PluginError && e.code === "UNAVAILABLE";
    });
    // Drop every server connection: the pending call must fail, not hang.
    await stop();
    stop = await fastWire.listen(rpc, socket);
    await pending;
    const reply = await client.echo({ payload: Buffer.from("again") });
    assert.equal(Buffer.from(reply.payload).toString(), "again");
    channel.close();
  });

  it("fails calls on a closed channel with the reason it was closed", async () => {
    const channel = open();
    const client = createClient(Fixture, channel);
    const pending = client.sleep({ durationMs: 10_000 });
    channel.close(new PluginError("PLUGIN_EXITED", "the plugin exited"));
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_EXITED",
    );
    await assert.rejects(client.echo({ payload: new Uint8Array(1) }), (e: unknown) => {
      return e instanceof PluginError && e.code === "PLUGIN_EXITED";
    });
  });
});
