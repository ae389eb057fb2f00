import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import { createServer } from "node:http2";
import type { Socket } from "node:net";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { waitFor } from "../../../test/support/wait.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { createClient } from "../core/client.ts";
import { RpcServer } from "../grpc/server.ts";
import { H2Channel } from "./client.ts";
import { createH2Listener } from "./listener.ts";

/** A node:http2 gRPC server with the settings given, its sessions tracked. */
async function serve(path: string, settings: Record<string, number>) {
  const server: Http2Server = createServer({ settings });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {});
  });
  new RpcServer({ maxReceiveMessageBytes: 64 * 1024 * 1024 })
    .register(fixtureService())
    .attach(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    sessions,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("plugwire's HTTP/2 client", () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-h2-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("moves 8 MiB both ways through the server's 1 KiB stream window", async () => {
    const path = join(dir, "small-window");
    const server = await serve(path, { initialWindowSize: 1024 });
    const channel = new H2Channel({
      connect: () => connect(path),
      maxReceiveMessageBytes: 64 * 1024 * 1024,
    });
    try {
      const payload = Buffer.alloc(8 * 1024 * 1024);
      for (let i = 0; i < payload.length; i += 4) payload.writeUInt32BE(i, i);
      const reply = await createClient(Fixture, channel).echo({ payload });
      assert.ok(Buffer.from(reply.payload).equals(payload));
    } finally {
      channel.close();
      await server.close();
    }
  });

  it("fails the calls a GOAWAY leaves out with UNAVAILABLE and opens a new connection", async () => {
    const path = join(dir, "goaway");
    const server = await serve(path, {});
    const channel = new H2Channel({ connect: () => connect(path) });
    const client = createClient(Fixture, channel);
    try {
      await client.echo({ payload: Buffer.from("first") });
      const pending = client.sleep({ durationMs: 60_000 });
      const outcome = assert.rejects(pending, (e: unknown) => {
        return e instanceof PluginError && e.code === "UNAVAILABLE";
      });
      // GOAWAY naming stream 1 as the last served: the sleep (stream 3) was never seen.
      for (const session of server.sessions) session.goaway(0, 1);
      await outcome;
      const reply = await client.echo({ payload: Buffer.from("again") });
      assert.equal(Buffer.from(reply.payload).toString(), "again");
    } finally {
      channel.close();
      await server.close();
    }
  });

  it("opens another connection when the server's concurrent-stream limit is reached", async () => {
    const path = join(dir, "limit");
    const server = await serve(path, { maxConcurrentStreams: 2 });
    const channel = new H2Channel({ connect: () => connect(path) });
    const client = createClient(Fixture, channel);
    try {
      await client.echo({ payload: Buffer.from("settings") }); // the limit is known from here on
      const replies = await Promise.all(
        Array.from({ length: 6 }, () => client.sleep({ durationMs: 50 })),
      );
      assert.equal(replies.length, 6);
      assert.equal(server.sessions.size, 3);
    } finally {
      channel.close();
      await server.close();
    }
  });

  it("keeps reading while its own writes wait, so a server that does the same never deadlocks with it", async () => {
    const path = join(dir, "both-ways");
    const listener = createH2Listener(new RpcServer().register(fixtureService()), undefined);
    await new Promise<void>((resolve) => listener.server.listen(path, resolve));
    const channel = new H2Channel({
      connect: () => connect(path),
      maxReceiveMessageBytes: 64 * 1024 * 1024,
    });
    const client = createClient(Fixture, channel);
    try {
      // Echoes nobody reads: the server writes until the stream window (4 MiB) is used, more
      // than the socket buffers, so its writes wait and it stops reading.
      async function* large() {
        for (let i = 0; i < 24; i++) yield { payload: Buffer.alloc(256 * 1024, i) };
      }
      const stream = client.echoStream(large())[Symbol.asyncIterator]();
      await stream.next();
      // A large request on the same connection: the server must read it, so it must drain.
      const payload = Buffer.alloc(8 * 1024 * 1024, 7);
      const reply = await client.echo({ payload });
      assert.equal(reply.payload.byteLength, payload.byteLength);
      await stream.return?.();
    } finally {
      channel.close();
      await listener.close(100);
    }
  });

  it("pings after a call times out, abandons a silent connection, and calls on a new one", async () => {
    const path = join(dir, "silent");
    const listener = createH2Listener(new RpcServer().register(fixtureService()), undefined);
    const sockets: Socket[] = [];
    // The first connection is accepted and never read from or answered: a wedged peer.
    const front = createNetServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      if (sockets.length === 1) socket.pause();
      else listener.server.emit("connection", socket);
    });
    await new Promise<void>((resolve) => front.listen(path, resolve));
    const channel = new H2Channel({ connect: () => connect(path), pingTimeoutMs: 300 });
    const client = createClient(Fixture, channel);
    try {
      await assert.rejects(
        client.sleep({ durationMs: 0 }, { timeoutMs: 100 }),
        (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
      );
      // Calls made on the silent connection fail UNAVAILABLE when it is abandoned; then one answers.
      let answer: { payload: Uint8Array } | undefined;
      const deadline = Date.now() + 10_000;
      while (answer === undefined && Date.now() < deadline) {
        answer = await client
          .echo({ payload: Buffer.from("fresh") }, { timeoutMs: 5000 })
          .catch((e: unknown) => {
            assert.ok(e instanceof PluginError && e.code === "UNAVAILABLE", String(e));
            return undefined;
          });
      }
      assert.equal(Buffer.from(answer!.payload).toString(), "fresh");
      assert.equal(sockets.length, 2, "one new connection");
    } finally {
      channel.close();
      for (const socket of sockets) socket.destroy();
      await listener.close(100);
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  });

  it("answers the server's PING and keeps calling", async () => {
    const path = join(dir, "ping");
    const server = await serve(path, {});
    const channel = new H2Channel({ connect: () => connect(path) });
    const client = createClient(Fixture, channel);
    try {
      await client.echo({ payload: Buffer.from("x") });
      const [session] = server.sessions;
      const rtt = await new Promise<number>((resolve, reject) =>
        session!.ping((error, duration) => (error ? reject(error) : resolve(duration))),
      );
      assert.ok(rtt >= 0);
      assert.equal((await client.echo({ payload: Buffer.from("y") })).payload.length, 1);
    } finally {
      channel.close();
      await server.close();
    }
  });

  it("fails pending calls with UNAVAILABLE when the connection drops", async () => {
    const path = join(dir, "drop");
    const server = await serve(path, {});
    const channel = new H2Channel({ connect: () => connect(path) });
    const client = createClient(Fixture, channel);
    try {
      await client.echo({ payload: Buffer.from("x") });
      const pending = assert.rejects(client.sleep({ durationMs: 60_000 }), (e: unknown) => {
        return e instanceof PluginError && e.code === "UNAVAILABLE";
      });
      for (const session of server.sessions) session.destroy();
      await pending;
    } finally {
      channel.close();
      await server.close();
    }
  });

  it("ignores answers that arrive long after it reset their streams, however many", async () => {
    // 1,500 calls answered by the server but held on their way back while the client cancels
    // every one: the answers then reach streams the client reset 1,500 resets ago, as they do
    // when a busy plugin answers a burst of timed-out calls late. They must not fail the
    // connection (the count-bounded memory of reset streams once did, after 1,024).
    const path = join(dir, "late-answers");
    const relayPath = join(dir, "late-answers-relay");
    let handled = 0;
    const router = new RpcServer().register({
      ...fixtureService(),
      impl: {
        ...(fixtureService().impl as object),
        echo(request: { payload: Uint8Array }) {
          handled++;
          return { payload: request.payload };
        },
      },
    } as never);
    const server = createH2Listener(router, undefined).server;
    await new Promise<void>((resolve) => server.listen(path, resolve));
    let held: Buffer[] | undefined = [];
    let toClient: Socket | undefined;
    const relays = new Set<Socket>();
    const relay = createNetServer((client) => {
      toClient = client;
      const upstream = connect(path);
      relays.add(client).add(upstream);
      client.on("error", () => {}).pipe(upstream);
      upstream
        .on("error", () => {})
        .on("data", (chunk: Buffer) => {
          if (held === undefined) client.write(chunk);
          else held.push(chunk);
        });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(relayPath, resolve));
    let connections = 0;
    const channel = new H2Channel({
      connect: () => {
        connections++;
        return connect(relayPath);
      },
    });
    const client = createClient(Fixture, channel);
    try {
      const calls = Array.from({ length: 1500 }, (_, i) => {
        const abort = new AbortController();
        const call = client.echo({ payload: Buffer.from(`call ${i}`) }, { signal: abort.signal });
        return {
          abort,
          settled: call.then(
            () => "answered",
            (e: unknown) => (e as PluginError).code,
          ),
        };
      });
      await waitFor(() => handled === 1500, 30_000, "the server to answer all 1,500 calls");
      for (const { abort } of calls) abort.abort();
      const outcomes = await Promise.all(calls.map(({ settled }) => settled));
      assert.ok(
        outcomes.every((outcome) => outcome === "CANCELLED"),
        "every call was cancelled",
      );
      // Now the answers reach the client, after its 1,500 RST_STREAMs.
      const late = held;
      held = undefined;
      for (const chunk of late) toClient?.write(chunk);
      const reply = await client.echo({ payload: Buffer.from("after") }, { timeoutMs: 10_000 });
      assert.equal(Buffer.from(reply.payload).toString(), "after");
      assert.equal(connections, 1, "the connection survived the late answers");
    } finally {
      channel.close();
      for (const socket of relays) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
