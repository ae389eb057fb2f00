import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { connect } from "node:tls";
import { PluginError } from "../errors/plugin-error.ts";
import type { TlsIdentity } from "./auto-mtls.ts";
import { generateTlsIdentity } from "./auto-mtls.ts";
import { createAutoMtlsServer } from "./auto-mtls-server.ts";

describe("createAutoMtlsServer: AutoMTLS's server, its client pinned to the peer's certificate", async () => {
  const [ours, peer, stranger] = await Promise.all([
    generateTlsIdentity(),
    generateTlsIdentity(),
    generateTlsIdentity(),
  ]);

  /** A server for `peer` echoing in upper case; what reached it and what it refused. */
  async function echoServer() {
    const served: Buffer[] = []; // the certificate each client served presented
    const refused: unknown[] = [];
    const server = createAutoMtlsServer({ identity: ours, peerCertPem: peer.certPem }, {}, (s) => {
      served.push(s.getPeerX509Certificate()!.raw);
      s.on("data", (chunk: Buffer) => s.write(chunk.toString().toUpperCase()));
    });
    server.on("tlsClientError", (error: unknown) => refused.push(error));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { server, served, refused, port: (server.address() as AddressInfo).port };
  }

  /** Dials as `identity` (none: no client certificate), writes "hello", collects the replies. */
  async function dial(port: number, identity: TlsIdentity | undefined): Promise<string> {
    const client = connect({
      port,
      host: "127.0.0.1",
      ca: [ours.certPem],
      servername: "localhost",
      ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }),
    });
    client.on("error", () => {}); // a refused client sees its connection closed
    const replies: Buffer[] = [];
    client.on("data", (chunk: Buffer) => {
      replies.push(chunk);
      if (Buffer.concat(replies).toString() === "HELLO") client.end();
    });
    client.write("hello");
    await once(client, "close");
    return Buffer.concat(replies).toString();
  }

  it("serves a client that presents the peer's certificate", async () => {
    const { server, served, refused, port } = await echoServer();
    assert.equal(await dial(port, peer), "HELLO");
    assert.equal(served.length, 1);
    assert.ok(served[0]!.equals(Buffer.from(peer.certRawBase64, "base64")));
    assert.deepEqual(refused, []);
    server.close();
  });

  it("refuses another certificate, or none, before reading a byte, as TLS_FAILED", async () => {
    const { server, served, refused, port } = await echoServer();
    for (const identity of [stranger, undefined]) assert.equal(await dial(port, identity), "");
    assert.equal(served.length, 0, "no refused connection reached the server's handler");
    assert.equal(refused.length, 2);
    for (const error of refused) {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "TLS_FAILED");
      assert.match(error.message, /not the peer's/);
    }
    server.close();
  });
});
