// The broker stream is tied to the connection it was opened on (go-plugin-protocol §5.2): when
// the connection to a live plugin drops, the client must not go on half-working (calls through
// a reconnected channel, broker dead). It fails with CLIENT_CLOSED and stops the plugin.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PingPong } from "../../test/fixtures/gen/grpctest_pb.js";
import { repoRoot, testHandshake, testPlugins, waitFor } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { startPlugin } from "../host/start/start.ts";
import { implement } from "../rpc/core/types.ts";

const dropPlugin = join(repoRoot, "test/fixtures/drop-connection-plugin.ts");

const connectionLost = (error: unknown) =>
  error instanceof PluginError &&
  error.code === "CLIENT_CLOSED" &&
  /connection to the plugin was lost/.test(error.message);

describe("a connection lost while the plugin lives", () => {
  const modes = [
    { label: "fast wire", fastWire: true, multiplex: false },
    { label: "gRPC", fastWire: false, multiplex: false },
    { label: "gRPC, multiplexed", fastWire: false, multiplex: true },
  ];
  for (const { label, fastWire, multiplex } of modes) {
    it(`fails the client with CLIENT_CLOSED and stops the plugin (${label})`, async () => {
      await using plugin = await startPlugin({
        cmd: process.execPath,
        args: ["--conditions=plugwire-source", dropPlugin],
        handshake: testHandshake,
        plugins: testPlugins,
        fastWire,
        multiplex,
        startTimeoutMs: 20_000,
      });
      assert.equal(plugin.wire, fastWire ? "fast" : "grpc");
      const served = await plugin.broker.serve(
        implement(PingPong, { ping: () => ({ msg: "pong" }) }),
      );
      const test = plugin.dispense("test");
      assert.equal((await test.bidirectional({ id: served.id })).id, served.id, "callback before");

      process.kill(plugin.pid, "SIGUSR2");
      await waitFor(() => plugin.state.t !== "running", 15_000, "the client to fail");
      await assert.rejects(test.double({ Input: 1 }), connectionLost);
      await assert.rejects(
        plugin.broker.serve(implement(PingPong, { ping: () => ({ msg: "pong" }) })),
        connectionLost,
      );
      const exit = await plugin.exited;
      assert.ok(exit.code !== null || exit.signal !== null, "the plugin process was stopped");
    });
  }
});
