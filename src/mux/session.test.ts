import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, describe, it } from "node:test";
import { waitFor } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { encodeHeader, Flag, FrameParser, FrameType, GoAwayCode } from "./frame.ts";
import type { YamuxSessionOptions } from "./session.ts";
import { YamuxSession } from "./session.ts";

const dir = mkdtempSync(join(tmpdir(), "pw-mux-"));
let socketCount = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

/** A connected unix socket pair (both ends in this process). */
async function socketPair(): Promise<{ a: Socket; b: Socket; server: Server }> {
  const path = join(dir, `s${socketCount++}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const a = connect(path);
  await once(a, "connect");
  const [b] = await accepted;
  server.close();
  return { a, b, server };
}

interface Pair {
  client: YamuxSession;
  server: YamuxSession;
  clientSocket: Socket;
  serverSocket: Socket;
}

async function sessionPair(
  clientOptions: Partial<YamuxSessionOptions> = {},
  serverOptions: Partial<YamuxSessionOptions> = {},
): Promise<Pair> {
  const { a, b } = await socketPair();
  return {
    client: new YamuxSession(a, { ...clientOptions, role: "client" }),
    server: new YamuxSession(b, { ...serverOptions, role: "server" }),
    clientSocket: a,
    serverSocket: b,
  };
}

/** Accepts every stream and echoes it (FIN after the peer's FIN). */
function echoAll(session: YamuxSession): void {
  void (async () => {
    for await (const stream of session) {
      stream.on("error", () => {});
      stream.pipe(stream);
    }
  })();
}

function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

function streamError(stream: Duplex): Promise<Error> {
  return new Promise((resolve) => stream.once("error", resolve));
}

function isCode(code: string, text?: RegExp) {
  return (error: unknown) =>
    error instanceof PluginError &&
    error.code === code &&
    (text === undefined || text.test(error.message));
}

/** Bytes i = i % 251, so a reader can check any offset. */
function pattern(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) % 251;
  return out;
}

async function writeAll(stream: Duplex, total: number, chunkBytes = 256 * 1024): Promise<void> {
  for (let sent = 0; sent < total; sent += chunkBytes) {
    const n = Math.min(chunkBytes, total - sent);
    if (!stream.write(pattern(sent, n))) await once(stream, "drain");
  }
  stream.end();
}

describe("yamux session, TypeScript on both ends", () => {
  it("opens streams from both sides (client odd ids, server even) and echoes them", async () => {
    const { client, server } = await sessionPair();
    echoAll(server);
    echoAll(client);
    const [a, b] = [client.open(), client.open()];
    const c = server.open();
    assert.deepEqual([a.id, b.id, c.id], [1, 3, 2]);
    for (const [stream, text] of [
      [a, "alpha"],
      [b, "bravo"],
      [c, "charlie"],
    ] as const) {
      stream.end(text);
      assert.equal((await readAll(stream)).toString(), text);
    }
    await waitFor(
      () => client.streamCount === 0 && server.streamCount === 0,
      10_000,
      "streams released",
    );
    await client.close();
  });

  it("carries 300 concurrent streams (more than the accept backlog)", async () => {
    const { client, server } = await sessionPair();
    echoAll(server);
    const sizes = Array.from({ length: 300 }, (_, i) => 1 + ((i * 7919) % (300 * 1024)));
    const results = await Promise.all(
      sizes.map(async (size) => {
        const stream = client.open();
        const [echoed] = await Promise.all([readAll(stream), writeAll(stream, size, 16 * 1024)]);
        return echoed.equals(pattern(0, size));
      }),
    );
    assert.equal(results.filter(Boolean).length, sizes.length);
    await waitFor(
      () => client.streamCount === 0 && server.streamCount === 0,
      10_000,
      "streams released",
    );
    await client.close();
  });

  it("moves 64 MiB each way on one stream (echo)", async () => {
    const { client, server } = await sessionPair();
    echoAll(server);
    const stream = client.open();
    const total = 64 * 1024 * 1024;
    let offset = 0;
    let mismatch = -1;
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        if (mismatch < 0 && !chunk.equals(pattern(offset, chunk.length))) mismatch = offset;
        offset += chunk.length;
      });
      stream.once("end", resolve);
      stream.once("error", reject);
    });
    await writeAll(stream, total);
    await done;
    assert.equal(offset, total);
    assert.equal(mismatch, -1);
    await client.close();
  });

  it("holds a writer to the window while the reader does not read", async () => {
    const { client, server, serverSocket } = await sessionPair();
    const accepted = server.accept();
    const stream = client.open();
    const total = 4 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += 64 * 1024) stream.write(pattern(sent, 64 * 1024));
    stream.end();
    const idle = await accepted; // accepted, never read yet
    await waitFor(() => serverSocket.bytesRead >= 256 * 1024, 10_000, "the first window to arrive");
    await client.ping(); // a barrier: everything the client sent before it has arrived
    const frames = Math.ceil((256 * 1024) / (64 * 1024));
    assert.ok(
      serverSocket.bytesRead <= 256 * 1024 + 12 * (frames + 4),
      `the server received ${serverSocket.bytesRead} bytes with a 256 KiB window`,
    );
    assert.ok(stream.writableLength > 2 * 1024 * 1024, "the rest waits in the writer");
    const received = await readAll(idle);
    assert.equal(received.length, total);
    assert.ok(received.equals(pattern(0, total)));
    await client.close();
  });

  it("half-closes with FIN: each side keeps writing after the other ended", async () => {
    const { client, server } = await sessionPair();
    const accepted = server.accept();
    const stream = client.open();
    stream.end("question");
    const peer = await accepted;
    assert.equal((await readAll(peer)).toString(), "question");
    assert.equal(client.streamCount, 1, "half-closed, still tracked");
    peer.end("answer after your FIN");
    assert.equal((await readAll(stream)).toString(), "answer after your FIN");
    await waitFor(
      () => client.streamCount === 0 && server.streamCount === 0,
      10_000,
      "streams released",
    );
    assert.equal(stream.errored, null);
    await client.close();
  });

  it("destroy(error) resets the stream (RST), from either side", async () => {
    const { client, server } = await sessionPair();
    const accepted = server.accept();
    const stream = client.open();
    stream.write("x");
    const peer = await accepted;
    const peerError = streamError(peer);
    const localError = streamError(stream);
    stream.destroy(new Error("abort"));
    assert.equal((await localError).message, "abort");
    assert.ok(isCode("UNAVAILABLE", /stream 1 was reset by the peer/)(await peerError));
    await waitFor(
      () => client.streamCount === 0 && server.streamCount === 0,
      10_000,
      "streams released",
    );

    const second = server.open();
    second.on("error", () => {});
    second.write("y");
    const mine = await client.accept();
    const mineError = streamError(mine);
    second.destroy(new Error("abort"));
    assert.ok(isCode("UNAVAILABLE", /stream 2 was reset/)(await mineError));
    await client.close();
  });

  it("reset() sends RST without an error on this side", async () => {
    const { client, server } = await sessionPair();
    const stream = client.open();
    stream.write("refuse me");
    const peer = await server.accept();
    let emitted = false;
    peer.on("error", () => {
      emitted = true;
    });
    const closed = once(peer, "close");
    const refused = streamError(stream);
    peer.reset();
    await closed;
    assert.equal(peer.errored, null);
    assert.equal(emitted, false, "reset() emits no 'error'");
    assert.ok(isCode("UNAVAILABLE", /stream 1 was reset by the peer/)(await refused));
    await client.close();
  });

  it("destroy() without an error closes like hashicorp/yamux's Close(): FIN, no RST", async () => {
    const { client, server } = await sessionPair();
    const accepted = server.accept();
    const stream = client.open();
    stream.write("last words");
    const peer = await accepted;
    stream.destroy();
    assert.equal((await readAll(peer)).toString(), "last words", "the peer reads to EOF");
    assert.equal(client.streamCount, 1, "lingers until the peer's FIN");
    peer.end("dropped: nobody reads it any more");
    await waitFor(
      () => client.streamCount === 0 && server.streamCount === 0,
      10_000,
      "streams released",
    );
    assert.equal(peer.errored, null);
    await client.close();
  });

  it("GoAway refuses new streams; open streams carry on", async () => {
    const { client, server } = await sessionPair();
    echoAll(server);
    const early = client.open();
    early.write("before ");
    await waitFor(() => server.streamCount === 1, 10_000, "the early stream");
    server.goAway();
    const raced = client.open(); // its SYN crosses the GoAway: refused with RST
    const racedError = streamError(raced);
    assert.ok(isCode("UNAVAILABLE", /reset/)(await racedError));
    await client.ping(); // the GoAway frame has arrived before the pong
    await assert.throws(() => client.open(), isCode("UNAVAILABLE", /GoAway/));
    early.end("and after");
    assert.equal((await readAll(early)).toString(), "before and after");
    await client.close();
  });

  it("answers pings in both directions", async () => {
    const { client, server } = await sessionPair();
    const rtts = await Promise.all([client.ping(), server.ping(), client.ping()]);
    for (const rtt of rtts) assert.ok(rtt >= 0 && rtt < 5000, `rtt ${rtt}`);
    await client.close();
  });

  it("close() ends both sessions and closes what is still open", async () => {
    const { client, server } = await sessionPair();
    const accepted = server.accept();
    const stream = client.open();
    stream.write("pending");
    const peer = await accepted;
    const peerClosed = once(peer, "close");
    const localClosed = once(stream, "close");
    const iteration = (async () => {
      let n = 0;
      for await (const _ of server) n++;
      return n;
    })();
    await client.close();
    assert.equal(await client.closed, undefined);
    assert.ok(isCode("UNAVAILABLE", /closed/)(await server.closed));
    await localClosed;
    assert.equal(stream.errored, null, "a local close() destroys without an error");
    await peerClosed;
    assert.equal(peer.errored, null, "the connection ended cleanly: closed, not failed");
    assert.equal(peer.readableEnded, false, "no EOF either: the stream did not finish");
    assert.equal(await iteration, 0);
    assert.ok(client.isClosed && server.isClosed);
    await assert.throws(() => client.open(), isCode("UNAVAILABLE"));
    await assert.rejects(server.accept(), isCode("UNAVAILABLE"));
    await assert.rejects(server.ping(), isCode("UNAVAILABLE"));
  });

  it("losing the connection closes the session and its streams (without an error on them)", async () => {
    const ended = await sessionPair();
    const stream = ended.client.open();
    const closed = once(stream, "close");
    ended.serverSocket.end();
    assert.ok(isCode("UNAVAILABLE", /peer closed/)(await ended.client.closed));
    await closed;
    assert.equal(stream.errored, null);
    assert.equal(stream.readableEnded, false, "no EOF: a consumer can tell it did not finish");

    const failed = await sessionPair();
    const doomed = failed.client.open();
    const doomedClosed = once(doomed, "close");
    failed.clientSocket.destroy(new Error("wire cut"));
    assert.ok(isCode("UNAVAILABLE", /wire cut/)(await failed.client.closed));
    await doomedClosed;
    assert.equal(doomed.errored, null);
    await failed.server.closed;
  });

  it("refuses streams beyond the accept backlog with RST", async () => {
    const { client, server } = await sessionPair({}, { acceptBacklog: 2 });
    const streams = [client.open(), client.open(), client.open()];
    for (const s of streams) s.write("hi");
    const refused = await streamError(streams[2]!);
    assert.ok(isCode("UNAVAILABLE", /stream 5 was reset/)(refused));
    const first = await server.accept();
    first.on("error", () => {}); // fails with UNAVAILABLE when the client closes the session
    assert.equal(first.id, 1);
    first.end("ok");
    assert.equal((await readAll(streams[0]!)).toString(), "ok");
    await client.close();
  });

  it("holds the SYN of opens beyond acceptBacklog until an ACK arrives", async () => {
    const { client, server } = await sessionPair({ acceptBacklog: 1 });
    const first = client.open();
    const second = client.open();
    second.end("written before its SYN could go out");
    assert.equal(second.id, 3);
    await client.ping();
    assert.equal(server.streamCount, 1, "only the first SYN went out");
    const accepted = await server.accept(); // ACKs the first: the second SYN goes out
    accepted.on("error", () => {});
    assert.equal(accepted.id, 1);
    const next = await server.accept();
    assert.equal(next.id, 3);
    assert.equal((await readAll(next)).toString(), "written before its SYN could go out");
    first.destroy(new Error("done"));
    first.on("error", () => {});
    await client.close();
  });

  it("a stream destroyed before its SYN went out is never seen by the peer", async () => {
    const { client, server } = await sessionPair({ acceptBacklog: 1 });
    client.open();
    const waiting = client.open();
    waiting.destroy();
    const third = client.open();
    third.end("third");
    const accepted = await server.accept();
    accepted.on("error", () => {});
    const next = await server.accept();
    assert.equal(next.id, 5);
    assert.equal((await readAll(next)).toString(), "third");
    await client.close();
  });

  it("GoAway fails the opens whose SYN was still waiting", async () => {
    const { client, server } = await sessionPair({ acceptBacklog: 1 });
    const first = client.open();
    first.on("error", () => {});
    const waiting = client.open();
    const error = streamError(waiting);
    server.goAway();
    assert.ok(isCode("UNAVAILABLE", /GoAway/)(await error));
    await client.close();
  });

  it("forgets the opens that GoAway failed before their SYN went out", async () => {
    const { client, server } = await sessionPair({ acceptBacklog: 1 });
    const first = client.open();
    first.on("error", () => {});
    const waiting = [client.open(), client.open()];
    const errors = waiting.map(streamError);
    assert.equal(client.streamCount, 3);
    server.goAway();
    await Promise.all(errors);
    assert.equal(client.streamCount, 1, "only the stream whose SYN went out is left");
    await client.close();
  });

  it("a stream whose peer never closes its side is reset after streamCloseTimeoutMs", async () => {
    const { client, server } = await sessionPair({ streamCloseTimeoutMs: 50 });
    const accepted = server.accept();
    const stream = client.open();
    stream.on("data", () => {});
    stream.end("bye");
    const peer = await accepted;
    peer.resume();
    const [local, remote] = await Promise.all([streamError(stream), streamError(peer)]);
    assert.ok(isCode("DEADLINE_EXCEEDED", /did not close its side/)(local));
    assert.ok(isCode("UNAVAILABLE", /reset/)(remote));
    await client.close();
  });

  it("rejects invalid options with CONFIG_INVALID", async () => {
    const { a } = await socketPair();
    assert.throws(
      () => new YamuxSession(a, { role: "client", maxStreamWindowBytes: 1024 }),
      isCode("CONFIG_INVALID"),
    );
    assert.throws(
      () => new YamuxSession(a, { role: "client", acceptBacklog: 0 }),
      isCode("CONFIG_INVALID"),
    );
    a.destroy();
  });
});

/** The raw end of a socket pair: reads frames and can write any bytes. */
async function rawPeer(options: Partial<YamuxSessionOptions>) {
  const { a, b } = await socketPair();
  const session = new YamuxSession(a, { role: "server", ...options });
  const frames: Array<{ type: number; flags: number; streamId: number; length: number }> = [];
  const parser = new FrameParser({
    header: (h) => frames.push(h),
    payload: () => {},
    end: () => {},
  });
  b.on("data", (chunk: Buffer) => parser.push(chunk));
  b.on("error", () => {});
  return { session, raw: b, frames };
}

describe("yamux session against a misbehaving peer", () => {
  it("ends with a protocol error on a bad version and sends GoAway(protocol error)", async () => {
    const { session, raw, frames } = await rawPeer({});
    const header = encodeHeader(FrameType.PING, Flag.SYN, 0, 1);
    header[0] = 1;
    raw.write(header);
    assert.ok(isCode("INTERNAL", /invalid yamux protocol version 1/)(await session.closed));
    await waitFor(() => frames.some((f) => f.type === FrameType.GO_AWAY), 10_000, "GoAway");
    assert.equal(
      frames.find((f) => f.type === FrameType.GO_AWAY)?.length,
      GoAwayCode.PROTOCOL_ERROR,
    );
  });

  it("ends with a protocol error when the peer exceeds a stream's receive window", async () => {
    const { session, raw, frames } = await rawPeer({});
    const accepted = session.accept();
    raw.write(encodeHeader(FrameType.WINDOW_UPDATE, Flag.SYN, 1, 0));
    const stream = await accepted;
    const error = streamError(stream);
    raw.write(encodeHeader(FrameType.DATA, 0, 1, 256 * 1024 + 1));
    raw.write(Buffer.alloc(256 * 1024 + 1));
    assert.ok(isCode("INTERNAL", /exceeded its receive window/)(await session.closed));
    assert.ok(isCode("INTERNAL")(await error));
    await waitFor(() => frames.some((f) => f.type === FrameType.GO_AWAY), 10_000, "GoAway");
    assert.ok(
      frames.some((f) => f.flags === Flag.ACK && f.streamId === 1),
      "the stream was ACKed",
    );
  });

  it("ends on a GoAway carrying an error code", async () => {
    const { session, raw } = await rawPeer({});
    raw.write(encodeHeader(FrameType.GO_AWAY, 0, 0, GoAwayCode.INTERNAL_ERROR));
    assert.ok(isCode("INTERNAL", /internal error/)(await session.closed));
  });

  it("answers ping requests with the same opaque value", async () => {
    const { session, raw, frames } = await rawPeer({});
    raw.write(encodeHeader(FrameType.PING, Flag.SYN, 0, 0xdeadbeef));
    await waitFor(() => frames.some((f) => f.type === FrameType.PING), 10_000, "the pong");
    assert.deepEqual(frames[0], {
      version: 0,
      type: FrameType.PING,
      flags: Flag.ACK,
      streamId: 0,
      length: 0xdeadbeef,
    });
    await session.close();
  });

  it("keeps the session alive with keep-alive pings while they are answered", async () => {
    const { session, raw, frames } = await rawPeer({ keepAliveIntervalMs: 10 });
    let answered = 0;
    const parser = new FrameParser({
      header: (h) => {
        if (h.type !== FrameType.PING || h.flags !== Flag.SYN) return;
        answered++;
        raw.write(encodeHeader(FrameType.PING, Flag.ACK, 0, h.length));
      },
      payload: () => {},
      end: () => {},
    });
    raw.on("data", (chunk: Buffer) => parser.push(chunk));
    await waitFor(() => answered >= 5, 10_000, "five keep-alive pings");
    assert.equal(session.isClosed, false);
    assert.ok(frames.every((f) => f.type === FrameType.PING && f.flags === Flag.SYN));
    await session.close();
  });

  it("ends the session when a keep-alive ping goes unanswered", async () => {
    const { session } = await rawPeer({ keepAliveIntervalMs: 10, connectionWriteTimeoutMs: 50 });
    assert.ok(isCode("UNAVAILABLE", /keep-alive failed/)(await session.closed));
  });

  it("ends the session when an opened stream is never acknowledged", async () => {
    const { session, frames } = await rawPeer({ streamOpenTimeoutMs: 50 });
    const stream = session.open();
    stream.on("error", () => {});
    assert.equal(stream.id, 2);
    assert.ok(isCode("UNAVAILABLE", /did not acknowledge stream 2/)(await session.closed));
    assert.deepEqual(
      frames.map((f) => [f.type, f.flags, f.streamId, f.length]),
      [[FrameType.WINDOW_UPDATE, Flag.SYN, 2, 0]],
    );
  });

  it("advertises a larger receive window in its SYN when configured", async () => {
    const { session, frames } = await rawPeer({ maxStreamWindowBytes: 1024 * 1024 });
    session.open();
    await waitFor(() => frames.length > 0, 10_000, "the SYN");
    assert.deepEqual(frames[0], {
      version: 0,
      type: FrameType.WINDOW_UPDATE,
      flags: Flag.SYN,
      streamId: 2,
      length: 1024 * 1024 - 256 * 1024,
    });
    await session.close();
  });
});
