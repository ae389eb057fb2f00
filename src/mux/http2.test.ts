// What the multiplexed broker needs from yamux streams in Node: HTTP/2 (plain and TLS inside the
// stream, as go-plugin does) and plugwire's gRPC on top.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders } from "node:http2";
import { connect as connectHttp2, createSecureServer, createServer } from "node:http2";
import type { Socket } from "node:net";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import { connect as connectTls, createServer as createTlsServer } from "node:tls";
import { fixtureService } from "../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../test/fixtures/gen/fixture_pb.js";
import { waitFor } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { createClient } from "../rpc/core/client.ts";
import { RpcChannel } from "../rpc/grpc/channel.ts";
import { RpcServer } from "../rpc/grpc/server.ts";
import type { TlsIdentity } from "../transport/auto-mtls.ts";
import { generateTlsIdentity } from "../transport/auto-mtls.ts";
import { YamuxSession } from "./session.ts";

const dir = mkdtempSync(join(tmpdir(), "pw-mux-h2-"));
let socketCount = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

/** A yamux client (host) and server (plugin) session over a real unix socket. */
async function sessionPair(): Promise<{ host: YamuxSession; plugin: YamuxSession }> {
  const path = join(dir, `s${socketCount++}`);
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const socket = connect(path);
  await once(socket, "connect");
  const [peer] = await accepted;
  server.close();
  return {
    host: new YamuxSession(socket, { role: "client" }),
    plugin: new YamuxSession(peer, { role: "server" }),
  };
}

/** Hands every stream the plugin side accepts to `server` as a new connection. */
function serveStreams(session: YamuxSession, server: Http2Server | Http2SecureServer | TlsServer) {
  void (async () => {
    for await (const stream of session) {
      stream.on("error", () => {});
      server.emit("connection", stream);
    }
  })();
}

function onRequests(server: Http2Server | Http2SecureServer): void {
  server.on("session", (session) => session.on("error", () => {}));
  server.on("stream", (stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ":status": 200, "x-path": headers[":path"] ?? "" });
      stream.end(body.length === 0 ? `hello ${headers[":path"]}` : body);
    });
  });
}

async function request(
  session: ReturnType<typeof connectHttp2>,
  path: string,
  body?: Buffer,
): Promise<{ status: number; body: Buffer }> {
  const stream = session.request({ ":method": body === undefined ? "GET" : "POST", ":path": path });
  stream.end(body);
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const [[headers]] = (await Promise.all([once(stream, "response"), once(stream, "end")])) as [
    [IncomingHttpHeaders],
    unknown,
  ];
  return { status: Number(headers[":status"]), body: Buffer.concat(chunks) };
}

let hostId: TlsIdentity;
let pluginId: TlsIdentity;
before(async () => {
  [hostId, pluginId] = await Promise.all([generateTlsIdentity(), generateTlsIdentity()]);
});

/** The host side of mutual TLS inside a yamux stream, as go-plugin's AutoMTLS does it. */
function tlsClient(stream: Duplex): Duplex {
  return connectTls({
    socket: stream,
    servername: "localhost",
    ca: pluginId.certPem,
    cert: hostId.certPem,
    key: hostId.keyPem,
    ALPNProtocols: ["h2"],
  });
}

describe("HTTP/2 over yamux streams", () => {
  it("h2c: http2.connect(createConnection) and server.emit('connection')", async () => {
    const { host, plugin } = await sessionPair();
    const server = createServer();
    onRequests(server);
    serveStreams(plugin, server);
    const client = connectHttp2("http://localhost", { createConnection: () => host.open() });
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const [a, b, c] = await Promise.all([
      request(client, "/a"),
      request(client, "/b"),
      request(client, "/big", big),
    ]);
    assert.equal(a.body.toString(), "hello /a");
    assert.equal(b.body.toString(), "hello /b");
    assert.ok(c.body.equals(big));
    client.close();
    await once(client, "close");
    await waitFor(
      () => host.streamCount === 0 && plugin.streamCount === 0,
      10_000,
      "streams released",
    );
    await host.close();
  });

  it("TLS inside the stream: tls.connect({ socket }) to a secure server's 'connection'", async () => {
    const { host, plugin } = await sessionPair();
    const server = createSecureServer({
      key: pluginId.keyPem,
      cert: pluginId.certPem,
      ca: hostId.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    onRequests(server);
    serveStreams(plugin, server);
    const client = connectHttp2("https://localhost", {
      createConnection: () => tlsClient(host.open()),
    });
    const reply = await request(client, "/secure", Buffer.from("over TLS over yamux"));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "over TLS over yamux");
    client.close();
    await once(client, "close");
    await host.close();
  });

  it("TLS inside the stream: a tls.Server's TLSSocket handed to a plain HTTP/2 server", async () => {
    // (A hand-made `new TLSSocket(stream, { isServer: true })` does not work with node:http2: its
    // session waits for 'secureConnect', which server-side TLS sockets never emit.)
    const { host, plugin } = await sessionPair();
    const server = createServer();
    onRequests(server);
    const tlsServer = createTlsServer({
      key: pluginId.keyPem,
      cert: pluginId.certPem,
      ca: hostId.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ["h2"],
    });
    const peers: string[] = [];
    tlsServer.on("secureConnection", (socket: TLSSocket) => {
      peers.push(socket.getPeerX509Certificate()?.fingerprint256 ?? "");
      server.emit("connection", socket);
    });
    tlsServer.on("tlsClientError", () => {});
    serveStreams(plugin, tlsServer);
    const client = connectHttp2("https://localhost", {
      createConnection: () => tlsClient(host.open()),
    });
    const reply = await request(client, "/tls-socket");
    assert.equal(reply.body.toString(), "hello /tls-socket");
    assert.equal(peers.length, 1);
    assert.equal(peers[0], new X509Certificate(hostId.certPem).fingerprint256);
    client.close();
    await once(client, "close");
    await waitFor(
      () => host.streamCount === 0 && plugin.streamCount === 0,
      10_000,
      "streams released",
    );
    await host.close();
  });
});

describe("plugwire gRPC over yamux streams", () => {
  it("serves unary and streaming calls with RpcServer and RpcChannel", async () => {
    const { host, plugin } = await sessionPair();
    const server = createServer();
    new RpcServer().register(fixtureService()).attach(server);
    server.on("session", (session) => session.on("error", () => {}));
    serveStreams(plugin, server);
    const channel = new RpcChannel({ connect: () => host.open() });
    const client = createClient(Fixture, channel);

    const payload = new Uint8Array(4 * 1024 * 1024).fill(42);
    const reply = await client.echo({ payload });
    assert.equal(reply.payload.length, payload.length);
    assert.ok(Buffer.from(reply.payload).equals(Buffer.from(payload)));

    const seen: number[] = [];
    for await (const r of client.count({ n: 5 })) seen.push(r.i);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);

    async function* values() {
      for (let i = 1n; i <= 10n; i++) yield { value: i };
    }
    assert.equal((await client.sum(values())).total, 55n);

    await assert.rejects(
      client.sleep({ durationMs: 10_000 }, { timeoutMs: 50 }),
      (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
    );
    channel.close();
    await host.close();
  });

  it("serves gRPC over TLS inside the stream, and fails calls when the session dies", async () => {
    const { host, plugin } = await sessionPair();
    const server = createSecureServer({
      key: pluginId.keyPem,
      cert: pluginId.certPem,
      ca: hostId.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    new RpcServer().register(fixtureService()).attach(server);
    server.on("session", (session) => session.on("error", () => {}));
    serveStreams(plugin, server);
    const channel = new RpcChannel({ connect: () => tlsClient(host.open()), tls: true });
    const client = createClient(Fixture, channel);
    const reply = await client.echo({ payload: new TextEncoder().encode("secure") });
    assert.equal(new TextDecoder().decode(reply.payload), "secure");

    const pending = assert.rejects(
      client.sleep({ durationMs: 10_000 }),
      (e: unknown) => e instanceof PluginError && e.code === "UNAVAILABLE",
    );
    await plugin.close();
    await pending;
    await host.closed;
    // The next connection attempt fails at once: open() throws on a closed session.
    assert.throws(
      () => host.open(),
      (e: unknown) => e instanceof PluginError && e.code === "UNAVAILABLE",
    );
    channel.close();
  });
});
