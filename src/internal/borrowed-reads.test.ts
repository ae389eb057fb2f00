import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, describe, it } from "node:test";
import type { TLSSocket } from "node:tls";
import { connect as connectTls, createServer as createTlsServer } from "node:tls";
import { generateTlsIdentity } from "../transport/auto-mtls.ts";
import { readFrom, withReusedReads, withReusedTlsReads } from "./borrowed-reads.ts";

const dir = mkdtempSync(join(tmpdir(), "plugwire-reads-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A unix-socket server handing each accepted socket to `onSocket`; its path. */
async function serve(server: Server): Promise<string> {
  const path = join(dir, `s${n++}`);
  server.listen(path);
  await once(server, "listening");
  return path;
}

/** Bytes 0..250 repeating, `length` long. */
function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

/** Collects what a sink sees: copies of the chunks, which buffers they were in, borrowed or not. */
function collector() {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const borrowed: boolean[] = [];
  return {
    copies,
    buffers,
    borrowed,
    sink: (chunk: Buffer, lent: boolean) => {
      copies.push(Buffer.from(chunk));
      buffers.add(chunk.buffer);
      borrowed.push(lent);
    },
    get bytes() {
      return Buffer.concat(copies);
    },
  };
}

/**
 * Writes the rest of `sent` (its first 100,000 bytes went before) in pieces, and checks that
 * it all arrived, in order, in several reads of one buffer, each handed over borrowed.
 */
async function sendsInOneBuffer(
  client: Duplex,
  sent: Buffer,
  seen: ReturnType<typeof collector>,
): Promise<void> {
  for (let at = 100_000; at < sent.length; at += 70_000)
    client.write(sent.subarray(at, at + 70_000));
  await until(() => seen.copies.reduce((sum, c) => sum + c.length, 0) >= sent.length);
  assert.ok(seen.bytes.equals(sent));
  assert.ok(seen.copies.length > 1, "the bytes came in several reads");
  assert.equal(seen.buffers.size, 1, "all of them in one buffer");
  assert.ok(seen.borrowed.every((lent) => lent));
}

/** Resolves once `check()` holds (checked on every turn), or fails after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("withReusedReads: a server's accepted sockets read into one reused buffer", () => {
  it("every read lands in the same buffer, handed over borrowed; nothing is lost or reordered", async () => {
    const seen = collector();
    let adopted: Socket | undefined;
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      adopted = withReusedReads(accepted, 16 * 1024);
      readFrom(adopted, seen.sink);
    });
    const path = await serve(server);
    const sent = pattern(1 << 20);
    const client = connect(path);
    // Written before the server's socket reads at all, then in pieces while it does.
    client.write(sent.subarray(0, 100_000));
    await until(() => adopted !== undefined);
    await sendsInOneBuffer(client, sent, seen);
    client.end();
    await once(adopted!, "close");
    server.close();
    await once(server, "close"); // the server does not wait on a socket it no longer counts
  });

  it("writes, half-closes and closes as the accepted socket would", async () => {
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      const socket = withReusedReads(accepted, 4096);
      readFrom(socket, (chunk) => socket.write(Buffer.from(chunk).toString("utf8").toUpperCase()));
      socket.on("end", () => socket.end());
    });
    const path = await serve(server);
    const client = connect(path);
    const replies: Buffer[] = [];
    client.on("data", (chunk: Buffer) => replies.push(chunk));
    client.end("echo me");
    await once(client, "close");
    assert.equal(Buffer.concat(replies).toString(), "ECHO ME");
    server.close();
    await once(server, "close");
  });

  it("a reader that stops hands the next one what it did not use, first, then the rest", async () => {
    const first = collector();
    const second = collector();
    let socket: Socket | undefined;
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      socket = withReusedReads(accepted, 4096);
      const reads = readFrom(socket, (chunk, lent) => {
        first.sink(chunk, lent);
        reads.stop(chunk.subarray(3)); // keeps 3 bytes, leaves the rest
        readFrom(socket!, second.sink);
      });
    });
    const path = await serve(server);
    const client = connect(path);
    client.write("abcdefgh");
    await until(() => second.bytes.toString() === "defgh");
    assert.deepEqual(second.borrowed, [false], "what was left is a copy");
    client.write("ijk");
    await until(() => second.bytes.toString() === "defghijk");
    assert.equal(second.borrowed.at(-1), true);
    client.destroy();
    await once(socket!, "close");
    server.close();
  });

  it("a socket handed over with bytes in its buffer, or made so already, comes back as it is", async () => {
    const seen = collector();
    let same: boolean[] = [];
    const server = createServer((accepted) => {
      accepted.once("data", (chunk: Buffer) => {
        accepted.pause();
        accepted.unshift(chunk);
        same = [withReusedReads(accepted, 4096) === accepted];
        readFrom(accepted, seen.sink);
      });
    });
    const path = await serve(server);
    const client = connect(path);
    client.write("unshifted");
    await until(() => seen.bytes.toString() === "unshifted");
    assert.deepEqual(same, [true]);
    assert.deepEqual(seen.borrowed, [false], "its own chunks, as 'data' gives them");
    client.destroy();
    server.close();

    let twice: boolean | undefined;
    const again = createServer({ pauseOnConnect: true }, (accepted) => {
      const socket = withReusedReads(accepted, 4096);
      twice = withReusedReads(socket, 4096) === socket;
      socket.destroy();
    });
    const client2 = connect(await serve(again));
    await until(() => twice !== undefined);
    assert.equal(twice, true);
    client2.destroy();
    again.close();
  });
});

describe("withReusedTlsReads: a TLS server's sockets read their plaintext into one reused buffer", async () => {
  const identity = await generateTlsIdentity();
  const keys = { key: identity.keyPem, cert: identity.certPem, ca: identity.certPem };
  /** A mutual-TLS server handing each secured socket to `onSecure`; a client dialing it. */
  async function tlsPair(onSecure: (socket: TLSSocket) => void) {
    const server = createTlsServer(
      { ...keys, requestCert: true, rejectUnauthorized: true },
      onSecure,
    );
    const path = await serve(server);
    const client = connectTls({ path, ...keys, checkServerIdentity: () => undefined });
    return { server, client };
  }

  it("every read lands in the same buffer, handed over borrowed; nothing is lost or reordered", async () => {
    const seen = collector();
    let secured: TLSSocket | undefined;
    const { server, client } = await tlsPair((socket) => {
      secured = withReusedTlsReads(socket, 16 * 1024);
      readFrom(secured, seen.sink);
    });
    const sent = pattern(1 << 20);
    client.write(sent.subarray(0, 100_000)); // before the handshake is done
    await until(() => secured !== undefined);
    await sendsInOneBuffer(client, sent, seen);
    client.end();
    await once(secured!, "end");
    secured!.end();
    await once(secured!, "close");
    server.close();
    await once(server, "close");
  });

  it("a reader that stops pauses the socket; the next reader gets what was left, then the rest", async () => {
    const first = collector();
    const second = collector();
    let secured: TLSSocket | undefined;
    let reads: { stop(unread?: Buffer): void } | undefined;
    const { server, client } = await tlsPair((socket) => {
      secured = withReusedTlsReads(socket, 4096);
      reads = readFrom(secured, (chunk, lent) => {
        first.sink(chunk, lent);
        reads!.stop(chunk.subarray(3));
      });
    });
    client.write("abcdefgh");
    await until(() => first.bytes.length > 0);
    client.write(pattern(64 * 1024)); // arrives while no one reads: the socket stays paused
    await until(() => secured!.isPaused());
    const handle = (secured as unknown as { _handle: { reading: boolean } })._handle;
    assert.equal(handle.reading, false, "the connection stopped reading");
    readFrom(secured!, second.sink);
    const expected = Buffer.concat([Buffer.from("abcdefgh").subarray(3), pattern(64 * 1024)]);
    await until(() => second.bytes.length >= expected.length);
    assert.equal(first.bytes.toString(), "abcdefgh");
    assert.ok(second.bytes.equals(expected));
    assert.equal(second.borrowed[0], false, "what was left is a copy");
    client.destroy();
    await once(secured!, "close");
    server.close();
  });

  it("a socket with bytes in its buffer comes back as it is, reading its own chunks", async () => {
    const seen = collector();
    let same: boolean | undefined;
    const { server, client } = await tlsPair((socket) => {
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        same = withReusedTlsReads(socket, 4096) === socket;
        readFrom(socket, seen.sink);
      });
    });
    client.write("unshifted");
    await until(() => seen.bytes.toString() === "unshifted");
    assert.equal(same, true);
    assert.deepEqual(seen.borrowed, [false], "its own chunks, as 'data' gives them");
    client.destroy();
    server.close();
  });
});
