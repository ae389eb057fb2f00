// Borrowed chunks of a brokered byte stream: over a real unix socket, plain and with mutual TLS,
// reading into a few reused buffers (each chunk valid until the next is asked for), and through
// the broker, plain, under AutoMTLS and multiplexed (where the chunks are the socket's own).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, describe, it } from "node:test";
import { patternDigest, patternSource } from "../../test/fixtures/byte-source.ts";
import { startFixture } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { TlsIdentity } from "../transport/auto-mtls.ts";
import { generateTlsIdentity } from "../transport/auto-mtls.ts";
import { dialer } from "../transport/dial.ts";
import { serverTlsOptions } from "../transport/http2-server.ts";
import { framedWriter } from "./byte-frames.ts";
import { ChunkReader } from "./chunk-reader.ts";

const dir = mkdtempSync(join(tmpdir(), "plugwire-chunks-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

type Serve = (socket: Duplex) => void;

/** A reader dialled into a unix socket whose accepted end is handed to `serve`. */
async function dialled(serve: Serve): Promise<ChunkReader> {
  const path = join(dir, `s${sockets++}`);
  const server = createServer((socket) => {
    server.close();
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const reader = new ChunkReader();
  return reader.attach(dialer({ network: "unix", address: path })(reader.onread));
}

/** A TLS server (the plugin's side) on a new unix socket, trusting `peer`; returns its path. */
async function tlsServer(
  identity: TlsIdentity,
  peer: TlsIdentity,
  serve: Serve,
): Promise<{ path: string; server: Server }> {
  const path = join(dir, `s${sockets++}`);
  const options = serverTlsOptions({ identity, peerCertPem: peer.certPem });
  const server = process.getBuiltinModule("node:tls").createServer(options, serve);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

/** A reader over mutual TLS to `path` trusting only `peer`, the plaintext through `onread`. */
function tlsReader(path: string, identity: TlsIdentity, peer: TlsIdentity): ChunkReader {
  const reader = new ChunkReader();
  const tls = { identity, peerCertPem: peer.certPem };
  return reader.attach(dialer({ network: "unix", address: path, tls })(reader.onread));
}

/** As `dialled`, with mutual TLS on AutoMTLS's keys. */
async function dialledTls(serve: Serve): Promise<ChunkReader> {
  const [host, plugin] = await Promise.all([generateTlsIdentity(), generateTlsIdentity()]);
  const { path, server } = await tlsServer(plugin, host, (socket) => {
    server.close();
    serve(socket);
  });
  return tlsReader(path, host, plugin);
}

const isCode = (code: string) => (error: unknown) => {
  assert.ok(error instanceof PluginError);
  assert.equal(error.code, code);
  return true;
};

for (const [name, dial] of [
  ["a plain socket", dialled],
  ["mutual TLS", dialledTls],
] as const)
  describe(`borrowed chunks on ${name}, read into a few reused buffers`, () => {
    it("carry 48 MiB intact, each chunk still whole after the consumer waited on it", async () => {
      const bytes = 48 * 1024 * 1024 + 12_345;
      let writing: Promise<void> | undefined;
      const reader = await dial((socket) => {
        writing = pipeline(patternSource(bytes), framedWriter(socket));
      });
      const hash = createHash("sha256");
      const buffers = new Set<ArrayBufferLike>();
      let received = 0;
      let n = 0;
      for await (const chunk of reader) {
        buffers.add(chunk.buffer);
        // A turn of the event loop (socket reads could happen) before the chunk is used.
        if (n++ % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
        hash.update(chunk);
        received += chunk.length;
      }
      await writing;
      assert.equal(received, bytes);
      assert.equal(hash.digest("hex"), patternDigest(bytes));
      // The reader's few reused buffers: nothing is allocated per read.
      assert.ok(buffers.size <= 8, `${buffers.size} buffers`);
    });

    it("a writer that died before the end marker is DATA_LOSS, also inside a header", async () => {
      for (const cut of [Buffer.from([0, 0, 0, 8, 1, 2]), Buffer.from([0, 0, 0, 1, 7, 0, 0])]) {
        const reader = await dial((socket) => {
          socket.end(cut);
        });
        await assert.rejects(async () => {
          for await (const _ of reader);
        }, isCode("DATA_LOSS"));
      }
    });

    it("a consumer that breaks off fails the writer's pipeline with UNAVAILABLE", async () => {
      let writing: Promise<void> | undefined;
      const reader = await dial((socket) => {
        const chunk = Buffer.alloc(64 * 1024, 7);
        const endless = new Readable({
          read() {
            this.push(chunk);
          },
        });
        writing = pipeline(endless, framedWriter(socket));
      });
      let read = 0;
      for await (const chunk of reader) {
        read += chunk.length;
        if (read > 1024 * 1024) break;
      }
      await assert.rejects(writing!, isCode("UNAVAILABLE"));
    });
  });

describe("borrowed chunks on a TLS socket that TLS opens itself (the reader's onread)", () => {
  const read = async (reader: ChunkReader) => {
    for await (const _ of reader);
  };

  it("nobody listening is UNAVAILABLE", async () => {
    const identity = await generateTlsIdentity();
    const reader = tlsReader(join(dir, "nobody"), identity, identity);
    await assert.rejects(read(reader), isCode("UNAVAILABLE"));
  });

  it("a server whose certificate is not the one trusted is UNAVAILABLE", async () => {
    const [host, plugin, other] = await Promise.all([
      generateTlsIdentity(),
      generateTlsIdentity(),
      generateTlsIdentity(),
    ]);
    const { path, server } = await tlsServer(plugin, host, () => {});
    try {
      await assert.rejects(read(tlsReader(path, host, other)), isCode("UNAVAILABLE"));
    } finally {
      server.close();
    }
  });
});

describe("borrowed chunks through the broker", () => {
  const size = 16 * 1024 * 1024 + 3;
  for (const options of [{}, { autoMtls: true }, { multiplex: true }]) {
    it(`plugin → host: dialBorrowedChunks reads what the plugin serves (${JSON.stringify(options)})`, async () => {
      await using plugin = await startFixture("test-grpc", options);
      const offer = await plugin.dispense("fixture").source({ bytes: BigInt(size) });
      const hash = createHash("sha256");
      let received = 0;
      for await (const chunk of await plugin.broker.dialBorrowedChunks(offer.brokerId)) {
        hash.update(chunk);
        received += chunk.length;
      }
      assert.equal(received, size);
      assert.equal(hash.digest("hex"), offer.sha256);
    });
  }
});
