import assert from "node:assert/strict";
import { connect } from "node:http2";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { RpcServer } from "../rpc/grpc/server.ts";
import { createGrpcServer } from "./http2-server.ts";

describe("the plugin's HTTP/2 server", () => {
  it("closes even when a session reports an error while it shuts down (a peer resetting it)", async () => {
    const grpc = createGrpcServer(new RpcServer(), undefined, undefined, "node-http2");
    const sessionSeen = new Promise<import("node:http2").ServerHttp2Session>((resolve) =>
      grpc.server.once("session", resolve),
    );
    await new Promise<void>((resolve) => grpc.server.listen(0, "127.0.0.1", resolve));
    const { port } = grpc.server.address() as AddressInfo;
    const client = connect(`http://127.0.0.1:${port}`);
    client.on("error", () => {});
    const session = await sessionSeen;
    const closing = grpc.close(60_000);
    // What a peer's reset looks like from here: 'error' first, 'close' after it.
    session.emit("error", new Error("ECONNRESET from the peer"));
    session.destroy();
    await closing; // rejected before: events.once turned the 'error' into a rejection
    client.destroy();
    assert.equal(grpc.server.listening, false);
  });
});
