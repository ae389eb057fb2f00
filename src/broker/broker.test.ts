// The broker between a TypeScript host and a TypeScript plugin: callbacks both ways, byte streams
// both ways, and its failure modes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { describe, it } from "node:test";
import { PingPong } from "../../test/fixtures/gen/grpctest_pb.js";
import { startFixture } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { implement } from "../rpc/types.ts";

describe("broker (TS host ↔ TS plugin)", () => {
  for (const autoMtls of [false, true]) {
    for (const network of ["unix", "tcp"] as const) {
      it(`TestGRPC_App bidirectional: host and plugin call each other (${network}, ${autoMtls ? "AutoMTLS" : "plain"})`, async () => {
        await using plugin = await startFixture("test-grpc", { autoMtls, network });
        let pinged = 0;
        const served = await plugin.broker.serve(
          implement(PingPong, {
            ping: () => {
              pinged++;
              return { msg: "pong" };
            },
          }),
        );
        const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
        assert.equal(pinged, 1);
        const back = await plugin.broker.client(id, PingPong);
        assert.equal((await back.ping({})).msg, "pong");
      });
    }
  }

  it("dialing an id nobody serves fails after go-plugin's 5 s with DEADLINE_EXCEEDED", async () => {
    await using plugin = await startFixture("test-grpc");
    await assert.rejects(plugin.broker.dial(4242, { timeoutMs: 300 }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "DEADLINE_EXCEEDED" &&
        /broker id 4242/.test(e.message)
      );
    });
  });

  it("a callback that throws fails the plugin's call, and its status comes back to the host", async () => {
    await using plugin = await startFixture("test-grpc");
    const served = await plugin.broker.serve(
      implement(PingPong, {
        ping: () => {
          throw new PluginError("FAILED_PRECONDITION", "the host refuses");
        },
      }),
    );
    await assert.rejects(plugin.dispense("test").bidirectional({ id: served.id }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "FAILED_PRECONDITION" &&
        /the host refuses/.test(e.message)
      );
    });
  });

  it("brokered servers and connections close with the plugin", async () => {
    const plugin = await startFixture("test-grpc");
    const served = await plugin.broker.serve(
      implement(PingPong, { ping: () => ({ msg: "pong" }) }),
    );
    const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
    const back = await plugin.broker.client(id, PingPong);
    await plugin.kill();
    await assert.rejects(back.ping({}), (e: unknown) => e instanceof PluginError);
    await assert.rejects(
      plugin.broker.serve(implement(PingPong, { ping: () => ({ msg: "x" }) })),
      (e: unknown) => {
        return e instanceof PluginError;
      },
    );
  });
});
