// go-plugin's MuxBroker (mux_broker.go) between two real yamux sessions over a unix socket pair:
// ids and acks on the wire, the accept timeout both ways, a bad ack, typed callbacks both ways.
// go-plugin v1.8.0 has no mux_broker_test.go; its MuxBroker is exercised by the net/rpc interop
// suites (test/interop/netrpc-*.test.ts) against the real one.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { waitFor } from "../../test/support/wait.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { go } from "../gob/index.ts";
import { YamuxSession } from "../mux/session.ts";
import { define } from "../rpc/netrpc/define.ts";
import { idBytes, readId } from "./id-stream.ts";
import { MuxBroker } from "./mux-broker.ts";

const dir = mkdtempSync(join(tmpdir(), "pw-muxb-"));
let count = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

async function socketPair(): Promise<{ a: Socket; b: Socket; server: Server }> {
  const path = join(dir, `s${count++}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const a = connect(path);
  await once(a, "connect");
  const [b] = await accepted;
  server.close();
  return { a, b, server };
}

/** A host-side and a plugin-side broker on one connection; disposing closes both sessions. */
async function brokers(acceptTimeoutMs?: number) {
  const { a, b } = await socketPair();
  const hostSession = new YamuxSession(a, { role: "client" });
  const pluginSession = new YamuxSession(b, { role: "server" });
  const host = new MuxBroker(hostSession, { name: "host-side", acceptTimeoutMs });
  const plugin = new MuxBroker(pluginSession, { name: "plugin-side", acceptTimeoutMs });
  host.run();
  plugin.run();
  return {
    host,
    plugin,
    hostSession,
    pluginSession,
    async [Symbol.asyncDispose]() {
      host.close();
      plugin.close();
      await Promise.all([hostSession.close(), pluginSession.close()]);
    },
  };
}

const Adder = define({
  Add: { args: go.struct("AddArgs", { A: go.int, B: go.int }), reply: go.int },
});

describe("MuxBroker", () => {
  it("dial writes the id as 4 bytes little-endian and the acceptor's ack matches it", async () => {
    await using pair = await brokers();
    const id = pair.plugin.nextId();
    const accepted = pair.plugin.accept(id);
    const dialed = await pair.host.dial(id);
    const stream = await accepted;
    // Bytes after the id are the stream's: nothing is read past the 4 bytes.
    dialed.write("hello");
    stream.setEncoding("utf8");
    const [text] = (await once(stream, "data")) as [string];
    assert.equal(text, "hello");
    assert.deepEqual(idBytes(0x01020304), Buffer.from([4, 3, 2, 1]));
  });

  it("a stream that arrives before accept() waits for it (within the timeout)", async () => {
    await using pair = await brokers();
    const id = pair.plugin.nextId();
    const dialing = pair.host.dial(id);
    // The dial is waiting for its ack; accept a moment later.
    await waitFor(() => pair.pluginSession.streamCount > 0, 2000, "the stream to arrive");
    const [stream] = await Promise.all([pair.plugin.accept(id), dialing]);
    assert.ok(stream);
  });

  it("ids are each side's own: both sides may use 1 at once", async () => {
    await using pair = await brokers();
    assert.equal(pair.host.nextId(), 1);
    assert.equal(pair.plugin.nextId(), 1);
    const [, , a, b] = await Promise.all([
      pair.host.accept(1),
      pair.plugin.accept(1),
      pair.plugin.dial(1),
      pair.host.dial(1),
    ]);
    assert.ok(a && b);
  });

  it("accept() gives up after acceptTimeoutMs with DEADLINE_EXCEEDED", async () => {
    await using pair = await brokers(200);
    await assert.rejects(
      pair.plugin.accept(7),
      (e: unknown) =>
        e instanceof PluginError &&
        e.code === "DEADLINE_EXCEEDED" &&
        e.plugin === "plugin-side" &&
        /timeout waiting for accept of broker id 7/.test(e.rawMessage),
    );
  });

  it("a stream nobody accepts is closed after the timeout, so its dial fails", async () => {
    await using pair = await brokers(200);
    await assert.rejects(
      pair.host.dial(9),
      (e: unknown) => e instanceof PluginError && e.plugin === "host-side",
    );
  });

  it("an ack with another id is BROKER_ACK_MISMATCH (go-plugin's bad ack)", async () => {
    const { a, b } = await socketPair();
    const hostSession = new YamuxSession(a, { role: "client" });
    const peer = new YamuxSession(b, { role: "server" });
    const host = new MuxBroker(hostSession);
    // A peer that answers every id with 99.
    void (async () => {
      for await (const stream of peer) {
        await readId(stream, { timeoutMs: 2000, what: "id" });
        stream.write(idBytes(99));
      }
    })();
    await assert.rejects(
      host.dial(3),
      (e: unknown) =>
        e instanceof PluginError &&
        e.code === "BROKER_ACK_MISMATCH" &&
        e.rawMessage === "bad ack: 99 (expected 3)",
    );
    await Promise.all([hostSession.close(), peer.close()]);
  });

  it("acceptAndServe and client: net/rpc callbacks both ways", async () => {
    await using pair = await brokers();
    const onPlugin = await pair.plugin.serve(Adder, { Add: ({ A, B }) => A + B });
    const onHost = await pair.host.acceptAndServe(pair.host.nextId(), "Plugin", Adder, {
      Add: ({ A, B }) => A * B,
    });
    const pluginAdder = await pair.host.client(onPlugin.id, Adder);
    const hostAdder = await pair.plugin.client(onHost.id, Adder);
    assert.equal(await pluginAdder.Add({ A: 2, B: 3 }), 5);
    assert.equal(await hostAdder.Add({ A: 2, B: 3 }), 6);
    await onPlugin.close();
    await onHost.close();
  });

  it("close() fails waiting accepts and later calls with the reason", async () => {
    await using pair = await brokers();
    const waiting = pair.plugin.accept(5);
    const reason = new PluginError("CLIENT_CLOSED", "closed for the test");
    pair.plugin.close(reason);
    await assert.rejects(
      waiting,
      (e: unknown) => e instanceof PluginError && e.code === "CLIENT_CLOSED",
    );
    await assert.rejects(pair.plugin.dial(1), (e: unknown) => e === reason);
  });

  it("an aborted accept is CANCELLED and frees its id", async () => {
    await using pair = await brokers();
    const controller = new AbortController();
    const waiting = pair.plugin.accept(4, { signal: controller.signal });
    controller.abort();
    await assert.rejects(
      waiting,
      (e: unknown) => e instanceof PluginError && e.code === "CANCELLED",
    );
    const again = pair.plugin.accept(4);
    await pair.host.dial(4);
    assert.ok(await again);
  });
});
