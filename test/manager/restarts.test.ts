import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import type { RestartMessage } from "../../src/internal/diagnostics.ts";
import { launchProcess, ManagedPlugin } from "../../src/manager/index.ts";
import { implement } from "../../src/rpc/core/types.ts";
import { inProcessPlugin, waitForState } from "../../src/testing/index.ts";
import { Fixture } from "../fixtures/gen/fixture_pb.js";
import { PingPong } from "../fixtures/gen/grpctest_pb.js";
import { fixturePlugin, testHandshake } from "../support/fixture.ts";
import { managedFixture } from "./support.ts";

/** The fixture plugin of test/fixtures (Fixture and Test services, no manifest), supervised. */
function supervisedFixture(restartDelayMs: number): ManagedPlugin {
  return new ManagedPlugin({
    id: "fixture-streams",
    healthIntervalMs: 0,
    restart: { initialDelayMs: restartDelayMs, jitter: 0 },
    launch: (signal) =>
      launchProcess(
        {
          name: "fixture-streams",
          cmd: fixturePlugin,
          args: ["test-grpc"],
          handshake: testHandshake,
          startTimeoutMs: 20_000,
        },
        signal,
      ),
  });
}

function pidOf(plugin: ManagedPlugin): number {
  const pid = plugin.connection?.info.pid;
  assert.ok(pid !== undefined, `${plugin.id} is ${plugin.state.t}, not running`);
  return pid;
}

describe("restarts and the end of a lifecycle", () => {
  it("publishes plugwire:restart with attempt 1 when a crash schedules the first restart", async () => {
    const messages: RestartMessage[] = [];
    const onMessage = (message: unknown) => messages.push(message as RestartMessage);
    subscribe("plugwire:restart", onMessage);
    try {
      await using plugin = managedFixture("providers", {
        restart: { initialDelayMs: 50, jitter: 0 },
      });
      await plugin.start();
      const restarting = waitForState(plugin, "restarting");
      process.kill(pidOf(plugin), "SIGKILL");
      const state = await restarting;
      assert.deepEqual(state, { t: "restarting", attempt: 1, delayMs: 50 });
      assert.deepEqual(
        messages.filter((m) => m.plugin === plugin.id),
        [
          {
            plugin: "fixture-providers",
            attempt: 1,
            delayMs: 50,
            reason: "the plugin crashed (signal SIGKILL)",
          },
        ],
      );
      await waitForState(plugin, "running");
      assert.equal(plugin.restarts, 1);
    } finally {
      unsubscribe("plugwire:restart", onMessage);
    }
  });

  it("serves streaming calls across a restart, a stream opened while it restarts included", async () => {
    // A long restart delay, so the streams below are opened while the plugin is down.
    await using plugin = supervisedFixture(300);
    const fixture = plugin.client(Fixture);
    const count = async (n: number) => {
      const seen: number[] = [];
      for await (const { i } of fixture.count({ n })) seen.push(i);
      return seen;
    };
    const echo = async (payloads: number[]) => {
      const requests = (async function* () {
        for (const p of payloads) yield { payload: new Uint8Array([p]) };
      })();
      const seen: number[] = [];
      for await (const { payload } of fixture.echoStream(requests)) seen.push(payload[0]!);
      return seen;
    };
    assert.deepEqual(await count(3), [0, 1, 2]);
    const firstPid = pidOf(plugin);
    const restarting = waitForState(plugin, "restarting");
    process.kill(firstPid, "SIGKILL");
    await restarting;
    const [counted, echoed] = await Promise.all([count(4), echo([7, 8, 9])]);
    assert.deepEqual(counted, [0, 1, 2, 3]);
    assert.deepEqual(echoed, [7, 8, 9]);
    assert.notEqual(pidOf(plugin), firstPid);
    assert.equal(plugin.restarts, 1);
  });

  it("fails a stream in flight with PLUGIN_EXITED when the plugin dies, and serves the next one", async () => {
    await using plugin = supervisedFixture(50);
    const fixture = plugin.client(Fixture);
    const requests = (async function* () {
      yield { payload: new Uint8Array([1]) };
      // Holds the stream open until the plugin is gone.
      await new Promise(() => {});
    })();
    const stream = fixture.echoStream(requests)[Symbol.asyncIterator]();
    assert.equal((await stream.next()).value?.payload[0], 1);
    process.kill(pidOf(plugin), "SIGKILL");
    await assert.rejects(stream.next(), { code: "PLUGIN_EXITED" });
    const seen: number[] = [];
    for await (const { i } of fixture.count({ n: 2 })) seen.push(i);
    assert.deepEqual(seen, [0, 1]);
  });

  it("keeps a closed plugin closed and a disabled one disabled, whatever is called next", async () => {
    const plugin = inProcessPlugin({
      id: "in-process-pingpong",
      services: [implement(PingPong, { ping: () => ({ msg: "pong" }) })],
    });
    const states: string[] = [];
    plugin.on("state", (s) => states.push(s.t));
    assert.equal((await plugin.client(PingPong).ping({})).msg, "pong");
    await plugin.disable("maintenance");
    assert.equal(plugin.state.t, "disabled");
    await plugin.stop();
    await assert.rejects(plugin.client(PingPong).ping({}), {
      code: "PLUGIN_DISABLED",
      message: /maintenance/,
    });
    await plugin.close();
    assert.equal(plugin.state.t, "disabled");
    await plugin.stop();
    plugin.enable();
    await assert.rejects(plugin.client(PingPong).ping({}), { code: "CLIENT_CLOSED" });
    await assert.rejects(plugin.start(), { code: "CLIENT_CLOSED" });
    assert.deepEqual(states, ["starting", "running", "disabled"]);
  });
});
