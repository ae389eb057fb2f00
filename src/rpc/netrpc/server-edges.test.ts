// The server and client at their edges: a client that sends garbage, a serve that is aborted, a
// server that closes, messages over the size limit.
import assert from "node:assert/strict";
import { duplexPair } from "node:stream";
import { describe, it } from "node:test";
import { waitFor } from "../../../test/support/wait.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import { NetRpcClient } from "./client.ts";
import { define } from "./define.ts";
import { NetRpcServer } from "./server.ts";
import { netrpcClient } from "./typed-client.ts";

const Service = define({
  Echo: { args: go.string, reply: go.string },
  Wait: { args: go.string, reply: go.string },
});

/** A server whose `Wait` handlers run until their signal fires; the signals are kept. */
function waitingServer(options: ConstructorParameters<typeof NetRpcServer>[0] = {}) {
  const signals: AbortSignal[] = [];
  const server = new NetRpcServer(options).register("S", Service, {
    Echo: (text) => text,
    Wait: (_text, { signal }) =>
      new Promise<string>((_, reject) => {
        signals.push(signal);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  });
  return { server, signals };
}

describe("net/rpc server and client at their edges", () => {
  it("closes a connection whose client sends garbage, tells onError, and resolves serve()", async () => {
    const errors: PluginError[] = [];
    const { server } = waitingServer({ onError: (error) => errors.push(error) });
    const [clientSide, serverSide] = duplexPair();
    const served = server.serve(serverSide);
    clientSide.write(new Uint8Array([0x03, 0xff, 0x81, 0x7f, 0x09, 0x09]));
    await served;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, "GOB_INVALID");
    assert.ok(serverSide.destroyed);
    await server.close();
  });

  it("ends a connection when serve's signal aborts: its handlers' signals fire", async () => {
    const { server, signals } = waitingServer();
    const [clientSide, serverSide] = duplexPair();
    const controller = new AbortController();
    const served = server.serve(serverSide, { signal: controller.signal });
    const client = netrpcClient(new NetRpcClient(clientSide, { plugin: "p" }), "S", Service);
    const call = client.Wait("x");
    await waitFor(() => signals.length === 1, 5000, "the running handler");
    controller.abort();
    await served;
    assert.ok(signals[0]!.aborted);
    await assert.rejects(call, { code: "UNAVAILABLE", plugin: "p" });
    await server.close();
  });

  it("close() ends every connection, and a later serve() ends its stream at once", async () => {
    const { server, signals } = waitingServer();
    const [clientSide, serverSide] = duplexPair();
    void server.serve(serverSide);
    const client = netrpcClient(new NetRpcClient(clientSide), "S", Service);
    const call = client.Wait("x");
    await waitFor(() => signals.length === 1, 5000, "the running handler");
    await server.close();
    assert.ok(signals[0]!.aborted);
    await assert.rejects(call, { code: "UNAVAILABLE" });
    const [, late] = duplexPair();
    await server.serve(late);
    assert.ok(late.destroyed);
  });

  it("a call a handler makes in turn inherits its connection's signal", async () => {
    const inner = waitingServer();
    const [innerClientSide, innerServerSide] = duplexPair();
    void inner.server.serve(innerServerSide);
    const innerClient = netrpcClient(new NetRpcClient(innerClientSide), "S", Service);
    let innerCall: Promise<string> | undefined;
    const outer = new NetRpcServer().register("S", Service, {
      Echo: (text) => text,
      Wait: (text) => {
        innerCall = innerClient.Wait(text);
        return innerCall;
      },
    });
    const [clientSide, serverSide] = duplexPair();
    void outer.serve(serverSide);
    const client = new NetRpcClient(clientSide);
    const call = netrpcClient(client, "S", Service).Wait("x");
    await waitFor(() => inner.signals.length === 1, 5000, "the inner handler");
    await client.close();
    await assert.rejects(call, { code: "CLIENT_CLOSED" });
    // The inner call ends here with the outer connection; the inner server is not told.
    await assert.rejects(innerCall!, { code: "CANCELLED", message: /connection ended/ });
    assert.equal(inner.signals[0]!.aborted, false);
    await outer.close();
    await inner.server.close();
  });

  it("a reply over the client's maxMessageBytes fails the pending calls with GOB_INVALID", async () => {
    const { server } = waitingServer();
    const [clientSide, serverSide] = duplexPair();
    void server.serve(serverSide);
    const client = new NetRpcClient(clientSide, { plugin: "big", maxMessageBytes: 1024 });
    const typed = netrpcClient(client, "S", Service);
    assert.equal(await typed.Echo("small"), "small");
    const error = await typed.Echo("x".repeat(4096)).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PluginError && error.code === "GOB_INVALID", String(error));
    assert.match(error.message, /plugin big: .*maxMessageBytes/);
    assert.ok(client.closed);
    await server.close();
  });

  it("a request over the server's maxMessageBytes ends that connection", async () => {
    const errors: PluginError[] = [];
    const { server } = waitingServer({ maxMessageBytes: 1024, onError: (e) => errors.push(e) });
    const [clientSide, serverSide] = duplexPair();
    const served = server.serve(serverSide);
    const typed = netrpcClient(new NetRpcClient(clientSide), "S", Service);
    await assert.rejects(typed.Echo("x".repeat(4096)), { code: "UNAVAILABLE" });
    await served;
    assert.equal(errors[0]?.code, "GOB_INVALID");
    await server.close();
  });
});
