// Brokered byte streams over a real unix socket: the framing, and a reader that stops early.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, describe, it } from "node:test";
import { patternDigest, patternSource } from "../../test/fixtures/byte-source.ts";
import { waitFor } from "../../test/support/wait.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { framedReader, framedWriter } from "./byte-frames.ts";

const dir = mkdtempSync(join(tmpdir(), "plugwire-frames-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

/** A connected pair of real unix sockets. */
async function socketPair(): Promise<[writer: Socket, reader: Socket]> {
  const path = join(dir, `s${sockets++}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const writer = createConnection(path);
  const reader = await accepted;
  server.close();
  return [writer, reader];
}

/** An endless source of 64 KiB chunks. */
function endless(): Readable {
  const chunk = Buffer.alloc(64 * 1024, 7);
  return new Readable({
    read() {
      this.push(chunk);
    },
  });
}

describe("brokered byte frames", () => {
  it("carry the bytes whole and end with the end marker", async () => {
    const [w, r] = await socketPair();
    const sent = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const received: Buffer[] = [];
    await Promise.all([
      pipeline(Readable.from([sent.subarray(0, 1000), sent.subarray(1000)]), framedWriter(w)),
      (async () => {
        for await (const chunk of framedReader(r)) received.push(chunk as Buffer);
      })(),
    ]);
    assert.deepEqual(Buffer.concat(received), sent);
  });

  it("carry 48 MiB intact to a consumer that yields between chunks (sha256 of the pattern)", async () => {
    const [w, r] = await socketPair();
    const bytes = 48 * 1024 * 1024 + 12_345;
    const hash = createHash("sha256");
    let received = 0;
    await Promise.all([
      pipeline(patternSource(bytes), framedWriter(w)),
      (async () => {
        for await (const chunk of framedReader(r)) {
          hash.update(chunk as Buffer);
          received += (chunk as Buffer).length;
          // A consumer slower than the socket: the reader pauses it and resumes on demand.
          if (received % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      })(),
    ]);
    assert.equal(received, bytes);
    assert.equal(hash.digest("hex"), patternDigest(bytes));
  });

  it("chunks a consumer keeps stay intact while the rest arrives (they are its own)", async () => {
    const [w, r] = await socketPair();
    const bytes = 8 * 1024 * 1024 + 3;
    const kept: Buffer[] = [];
    await Promise.all([
      pipeline(patternSource(bytes), framedWriter(w)),
      (async () => {
        for await (const chunk of framedReader(r)) kept.push(chunk as Buffer);
      })(),
    ]);
    assert.ok(kept.length > 1);
    assert.equal(
      createHash("sha256").update(Buffer.concat(kept)).digest("hex"),
      patternDigest(bytes),
    );
  });

  it("a reader that stops early fails the writer's pipeline with UNAVAILABLE, not an uncaught EPIPE", async () => {
    const [w, r] = await socketPair();
    const writing = pipeline(endless(), framedWriter(w));
    let read = 0;
    for await (const chunk of framedReader(r)) {
      read += (chunk as Buffer).length;
      if (read > 1024 * 1024) break; // destroys the reader, and its socket
    }
    await assert.rejects(writing, (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "UNAVAILABLE");
      assert.match(error.message, /reader of the brokered byte stream stopped before its end/);
      return true;
    });
    assert.ok(w.destroyed);
  });

  it("a reader closing after the end marker, before the socket confirms the end, is a clean finish", async () => {
    // Under TLS or yamux the reader's close can arrive before `end`'s callback: the writer had
    // handed over everything, so its pipeline must resolve (it once failed UNAVAILABLE).
    const written: Buffer[] = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
      final() {}, // never confirmed: the close below overtakes it
    });
    const writer = framedWriter(socket);
    const done = pipeline(Readable.from([Buffer.from("all of it")]), writer);
    await waitFor(
      () => written.some((chunk) => chunk.length === 4 && chunk.readUInt32BE(0) === 0),
      5000,
      "the end marker to be written",
    );
    // As a TLS socket over a yamux stream does: 'close' while its end is still being flushed.
    socket.emit("close");
    await done;
    socket.destroy();
    assert.equal(Buffer.concat(written).subarray(4, 13).toString(), "all of it");
  });

  it("the reader reports a writer that died as DATA_LOSS, not a clean end", async () => {
    const [w, r] = await socketPair();
    const reading = (async () => {
      for await (const _ of framedReader(r));
    })();
    w.write(Buffer.from([0, 0, 0, 8, 1, 2]));
    w.destroy();
    await assert.rejects(reading, (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "DATA_LOSS");
      return true;
    });
  });

  it("a writer that died inside a length header is DATA_LOSS too", async () => {
    const [w, r] = await socketPair();
    const reading = (async () => {
      for await (const _ of framedReader(r));
    })();
    w.write(Buffer.from([0, 0, 0, 2, 1, 2, 0, 0]));
    w.destroy();
    await assert.rejects(reading, (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "DATA_LOSS");
      return true;
    });
  });
});
