// Both wires between a plugwire host and a plugwire plugin, end to end through real processes:
// the fast wire a TS plugin accepts by default, and gRPC when the host does not offer it (what a
// Go host gets). The rest of the suite runs over the default (fast) wire.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { startFixture, waitFor } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { createClient } from "../../rpc/core/client.ts";
import { connectChannel } from "../../transport/dial.ts";

describe("host ↔ plugin wires", () => {
  for (const fastWire of [true, false]) {
    for (const autoMtls of [false, true]) {
      for (const network of ["unix", "tcp"] as const) {
        const wire = fastWire ? "fast" : "grpc";
        const label = `${wire} wire, ${autoMtls ? "AutoMTLS" : "plain"}, ${network}`;
        it(`${label}: calls, streams, broker callbacks, deadlines`, async () => {
          await using plugin = await startFixture("test-grpc", { fastWire, autoMtls, network });
          assert.equal(plugin.wire, wire);
          assert.equal(plugin.tls, autoMtls);
          assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
          const fixture = plugin.dispense("fixture");
          const counted: number[] = [];
          for await (const { i } of fixture.count({ n: 3 })) counted.push(i);
          assert.deepEqual(counted, [0, 1, 2]);
          const served = await plugin.broker.serve(fixtureService());
          const reply = await fixture.callBack(
            { brokerId: served.id, durationMs: 1 },
            { timeoutMs: 5000 },
          );
          assert.ok(reply.deadlineRemainingMs > 2000, String(reply.deadlineRemainingMs));
          await assert.rejects(
            fixture.sleep({ durationMs: 30_000 }, { timeoutMs: 200 }),
            (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
          );
          await waitFor(
            async () => (await fixture.cancelled({})).cancelled === 1,
            5000,
            "the plugin's handler to see the deadline",
          );
          // A crash fails the call in flight at once, with the plugin named.
          const inFlight = fixture.sleep({ durationMs: 30_000 });
          process.kill(plugin.pid, "SIGKILL");
          await assert.rejects(
            inFlight,
            (e: unknown) =>
              e instanceof PluginError &&
              e.code === "PLUGIN_EXITED" &&
              e.plugin === "fixture-plugin",
          );
        });
      }
    }
  }

  it("a plugin that accepted the fast wire still serves gRPC on the same address", async () => {
    await using plugin = await startFixture("test-grpc", { autoMtls: false });
    assert.equal(plugin.wire, "fast");
    const grpc = connectChannel({ network: plugin.network, address: plugin.address });
    try {
      const reply = await createClient(Fixture, grpc).echo({ payload: Buffer.from("h2") });
      assert.equal(Buffer.from(reply.payload).toString(), "h2");
    } finally {
      grpc.close();
    }
  });
});
