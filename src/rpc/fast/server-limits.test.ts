// Issue 14, defect 11: a hostile or buggy fast-wire client cannot make the plugin's server hold
// unbounded memory, calls or connections. Driven with a raw socket sending crafted frames;
// assertions are on what the server holds (calls, buffered bytes), not on RSS.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import {
  EchoMessageSchema,
  Fixture,
  SleepRequestSchema,
} from "../../../test/fixtures/gen/fixture_pb.js";
import { waitFor } from "../../../test/support/fixture.ts";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { createDualListener } from "../../transport/dual-listener.ts";
import { implement } from "../core/types.ts";
import { RpcServer } from "../grpc/server.ts";
import type { Frame } from "./frames.ts";
import { CallFlag, FrameReader, FrameType, fastWirePreface, initialCreditBytes } from "./frames.ts";
import { decodeStatus, encodeCallHead } from "./payloads.ts";
import { FastServerConnection } from "./server.ts";

const sleepPath = "/plugwire.fixture.Fixture/Sleep";
const echoStreamPath = "/plugwire.fixture.Fixture/EchoStream";
const echoPath = "/plugwire.fixture.Fixture/Echo";

/** Handlers that count how many run and how many saw their signal fire. */
function countingService() {
  const counts = { running: 0, started: 0, aborted: 0 };
  const impl = implement(Fixture, {
    async sleep(_request, { signal }) {
      counts.started++;
      counts.running++;
      try {
        await new Promise<void>((_, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      } finally {
        counts.running--;
        counts.aborted++;
      }
      return {};
    },
    // A consumer that never reads: the client's messages pile up only as far as its credit.
    async *echoStream(_requests, { signal }) {
      counts.started++;
      counts.running++;
      try {
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      } finally {
        counts.running--;
        counts.aborted++;
      }
    },
    count: async function* () {},
    sum: async () => ({}),
    echo: (request) => request,
    cancelled: () => ({}),
    digest: () => ({}),
    produce: () => ({}),
    source: () => ({}),
    brokered: () => ({}),
    callBack: () => ({}),
  });
  return { impl, counts };
}

function frame(type: number, id: number, payload: Buffer = Buffer.alloc(0), length?: number) {
  const header = Buffer.alloc(9);
  header.writeUInt32BE(length ?? payload.byteLength, 0);
  header[4] = type;
  header.writeUInt32BE(id, 5);
  return Buffer.concat([header, payload]);
}

function callFrame(id: number, path: string, flags: number, message?: Uint8Array) {
  const head = encodeCallHead(path, flags, undefined, undefined);
  return frame(FrameType.call, id, Buffer.concat([head, message ?? Buffer.alloc(0)]));
}

const sleepCall = (id: number) =>
  callFrame(
    id,
    sleepPath,
    CallFlag.message | CallFlag.end,
    toBinary(SleepRequestSchema, {
      $typeName: "plugwire.fixture.SleepRequest",
      durationMs: 60_000,
    }),
  );

/** A raw client: what it reads back, decoded as frames. */
function rawClient(path: string, preface = false) {
  const socket = connect(path);
  socket.on("error", () => {});
  const frames: Frame[] = [];
  const reader = new FrameReader(1 << 20, {
    frame: (f) =>
      frames.push({ type: f.type, id: f.id, payload: Buffer.from(f.payload), borrowed: false }),
    oversize: () => {},
  });
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  let closed = false;
  socket.once("close", () => {
    closed = true;
  });
  if (preface) socket.write(fastWirePreface);
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
    statusOf(id: number) {
      const found = frames.find((f) => f.type === FrameType.status && f.id === id);
      return found === undefined ? undefined : decodeStatus(found.payload);
    },
    goaway() {
      const found = frames.find((f) => f.type === FrameType.goaway);
      return found === undefined ? undefined : decodeStatus(found.payload);
    },
  };
}

describe("fast wire server limits (issue 14, defect 11)", () => {
  let dir: string;
  let server: Server;
  let path: string;
  const connections: FastServerConnection[] = [];
  const { impl, counts } = countingService();
  const rpc = new RpcServer({ maxConcurrentCalls: 50, idleTimeoutMs: 300 }).register(impl);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pw-limits-"));
    path = join(dir, "s");
    server = createServer((socket: Socket) => {
      connections.push(new FastServerConnection(rpc, socket));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });
  after(async () => {
    for (const connection of connections) connection.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const latest = async (before: number) => {
    await waitFor(() => connections.length > before, 5000, "the server to accept");
    return connections[connections.length - 1]!;
  };
  const settled = () => waitFor(() => counts.running === 0, 5000, "every handler to end");

  it("resets a stream whose client sends beyond its credit window, holding at most the window", async () => {
    const n = connections.length;
    const client = rawClient(path);
    const connection = await latest(n);
    client.socket.write(callFrame(1, echoStreamPath, 0));
    const piece = toBinary(EchoMessageSchema, {
      $typeName: "plugwire.fixture.EchoMessage",
      payload: new Uint8Array(64 * 1024),
    });
    // 4 MiB on one stream, ignoring every credit frame: 4× the window.
    for (let i = 0; i < 64; i++)
      client.socket.write(frame(FrameType.message, 1, Buffer.from(piece)));
    await waitFor(() => client.statusOf(1) !== undefined, 10_000, "the stream's reset");
    assert.equal(client.statusOf(1)!.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.match(client.statusOf(1)!.message, /flow-control window/);
    await settled();
    // What was still on the way for the reset stream is read and dropped.
    await waitFor(
      () => connection.stats.calls === 0 && connection.stats.bufferedBytes === 0,
      5000,
      "the server to hold nothing",
    );
    client.socket.destroy();
  });

  it("never buffers more of one stream than the window plus one message", async () => {
    const n = connections.length;
    const client = rawClient(path);
    const connection = await latest(n);
    client.socket.write(callFrame(1, echoStreamPath, 0));
    const piece = Buffer.from(
      toBinary(EchoMessageSchema, {
        $typeName: "plugwire.fixture.EchoMessage",
        payload: new Uint8Array(16 * 1024),
      }),
    );
    let peak = 0;
    for (let i = 0; i < 128; i++) {
      client.socket.write(frame(FrameType.message, 1, piece));
      peak = Math.max(peak, connection.stats.bufferedBytes);
    }
    await waitFor(() => client.statusOf(1) !== undefined, 10_000, "the stream's reset");
    assert.ok(peak <= initialCreditBytes + piece.byteLength, `held ${peak} bytes`);
    client.socket.destroy();
    await settled();
  });

  it("refuses a duplicate live call id: goaway with the reason, every handler cancelled", async () => {
    const n = connections.length;
    const client = rawClient(path);
    const connection = await latest(n);
    const before = counts.aborted;
    client.socket.write(Buffer.concat([sleepCall(7), sleepCall(8), sleepCall(7)]));
    await waitFor(() => client.closed, 10_000, "the connection to close");
    assert.equal(client.goaway()?.code, GrpcStatus.INTERNAL);
    assert.match(client.goaway()!.message, /call id 7 is already in use/);
    await settled();
    assert.equal(counts.aborted - before, 2, "both started handlers were cancelled");
    assert.equal(connection.stats.calls, 0);
  });

  it("answers calls beyond maxConcurrentCalls with RESOURCE_EXHAUSTED; a drop cancels the rest", async () => {
    const n = connections.length;
    const client = rawClient(path);
    const connection = await latest(n);
    const calls: Buffer[] = [];
    for (let id = 1; id <= 60; id++) calls.push(sleepCall(id));
    client.socket.write(Buffer.concat(calls));
    await waitFor(() => client.statusOf(60) !== undefined, 10_000, "the 60th call's status");
    for (let id = 51; id <= 60; id++) {
      assert.equal(client.statusOf(id)?.code, GrpcStatus.RESOURCE_EXHAUSTED);
      assert.match(client.statusOf(id)!.message, /too many concurrent calls.*limit 50/);
    }
    assert.equal(client.statusOf(50), undefined);
    assert.equal(connection.stats.calls, 50);
    assert.equal(counts.running, 50);
    client.socket.destroy();
    await settled();
    assert.equal(connection.stats.calls, 0);
  });

  it("allocates frames as their bytes arrive, never by the announced length", async () => {
    const n = connections.length;
    const clients = Array.from({ length: 8 }, () => rawClient(path));
    await waitFor(() => connections.length >= n + 8, 5000, "the server to accept");
    const mine = connections.slice(n, n + 8);
    const arrayBuffers = process.memoryUsage().arrayBuffers;
    // Each announces a 96 MiB call frame (under the 256 MiB limit) and sends 19 bytes of it.
    for (const client of clients)
      client.socket.write(frame(FrameType.call, 1, Buffer.alloc(10), 96 * 1024 * 1024));
    await waitFor(
      () => mine.every((connection) => connection.stats.bufferedBytes === 10),
      5000,
      "every server to read the 19 bytes",
    );
    const grown = process.memoryUsage().arrayBuffers - arrayBuffers;
    assert.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    for (const client of clients) client.socket.destroy();
  });

  it("closes with a reason a connection whose control frame announces more than a control frame holds", async () => {
    const client = rawClient(path);
    client.socket.write(frame(FrameType.credit, 1, Buffer.alloc(4), 0xffff_fff0));
    await waitFor(() => client.closed, 10_000, "the connection to close");
    assert.equal(client.goaway()?.code, GrpcStatus.INTERNAL);
    assert.match(client.goaway()!.message, /type 7 announced 4294967280 bytes/);
  });

  it("closes a connection that stays idle, or never completes its first frame", async () => {
    const idle = rawClient(path);
    const partial = rawClient(path);
    partial.socket.write(frame(FrameType.call, 1, Buffer.alloc(0), 100).subarray(0, 5));
    await waitFor(() => idle.closed && partial.closed, 10_000, "idle connections to close");
    assert.ok(idle.goaway() !== undefined, "a goaway before the close");
  });

  it("keeps a connection with a running call past the idle timeout", async () => {
    const n = connections.length;
    const client = rawClient(path);
    // Sent with the connection's first bytes, so the call runs long before its idle timeout.
    client.socket.write(sleepCall(1));
    const connection = await latest(n);
    await waitFor(() => connection.stats.calls === 1, 5000, "the call to start");
    // A witness: a connection opened after the call started, left idle. Its idle timer was armed
    // later than the busy one's, with the same timeout, so by the time the server has told it
    // goaway and closed it after the grace, the busy connection has gone through as much (and
    // would have been closed first, had the running call not kept it).
    const idle = rawClient(path);
    await waitFor(() => idle.closed, 10_000, "the idle witness to be closed");
    assert.ok(idle.goaway() !== undefined, "the witness was told goaway first");
    // A round trip on the busy connection: whatever the server wrote to it before (a goaway)
    // arrives ahead of this answer.
    client.socket.write(
      callFrame(
        3,
        echoPath,
        CallFlag.message | CallFlag.end,
        toBinary(EchoMessageSchema, {
          $typeName: "plugwire.fixture.EchoMessage",
          payload: new Uint8Array([1]),
        }),
      ),
    );
    // A unary call that succeeds is answered by one reply frame (message and OK together).
    const answered = () => client.frames.some((f) => f.id === 3 && f.type === FrameType.reply);
    await waitFor(
      () => answered() || client.statusOf(3) !== undefined || client.closed,
      5000,
      "the busy connection to answer",
    );
    assert.equal(client.closed, false);
    assert.equal(client.goaway(), undefined);
    assert.ok(answered(), `the echo failed: ${client.statusOf(3)?.message}`);
    client.socket.destroy();
    await settled();
  });
});

describe("fast wire listener (issue 14, defect 11)", () => {
  it("closes a connection that never sends its first bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-limits-"));
    const path = join(dir, "s");
    const rpc = new RpcServer({ idleTimeoutMs: 200 }).register(countingService().impl);
    const listener = createDualListener(rpc, undefined);
    await new Promise<void>((resolve) => listener.server.listen(path, resolve));
    try {
      const silent = rawClient(path);
      const prefaced = rawClient(path, true);
      await waitFor(() => silent.closed && prefaced.closed, 10_000, "both connections to close");
    } finally {
      await listener.close(100);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
