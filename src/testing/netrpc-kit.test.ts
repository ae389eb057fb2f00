// The test kit for net/rpc plugins: in process (go-plugin's net/rpc protocol over an in-memory
// pipe), supervised in process, and a real plugin process, dispensed by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Adder, Greeter, netrpcPluginCmd, Tester } from "../../test/fixtures/netrpc-shared.ts";
import { waitFor } from "../../test/support/wait.ts";
import type { PluginError } from "../errors/plugin-error.ts";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { go } from "../gob/index.ts";
import { netrpcPlugin } from "../plugin/serve/netrpc-plugins.ts";
import { define } from "../rpc/netrpc/define.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import { inProcessNetRpcClient, inProcessPlugin, startTestPlugin, waitForState } from "./index.ts";

const Calc = define({
  AddVia: { args: go.struct("C", { ID: go.uint32, A: go.int, B: go.int }), reply: go.int },
  Fail: { args: go.string, reply: go.struct("", {}) },
  Sleep: { args: go.int, reply: go.int },
});

describe("inProcessNetRpcClient", () => {
  it("calls the implementation over go-plugin's net/rpc protocol, callbacks and errors included", async () => {
    await using kit = inProcessNetRpcClient(Calc, {
      async AddVia(a, { broker }) {
        return (await broker.client(a.ID, Adder)).Add({ A: a.A, B: a.B });
      },
      Fail(text) {
        throw new Error(text);
      },
      async Sleep(ms, { signal }) {
        await new Promise((resolve) => setTimeout(resolve, ms).unref());
        return signal.aborted ? -1 : ms;
      },
    });
    const served = await kit.muxBroker.serve(Adder, { Add: ({ A, B }) => A + B });
    assert.equal(await kit.client.AddVia({ ID: served.id, A: 2, B: 3 }), 5);
    await assert.rejects(kit.client.Fail("no such user"), (error: PluginError) => {
      assert.equal(error.code, "NETRPC_ERROR");
      assert.equal(error.rawMessage, "no such user");
      return true;
    });
    await assert.rejects(kit.client.Sleep(2000, { timeoutMs: 20 }), { code: "DEADLINE_EXCEEDED" });
    assert.equal(kit.connection.info.protocol, "netrpc");
    await kit.close();
    await assert.rejects(kit.client.Sleep(1), { code: "CLIENT_CLOSED" });
  });

  it("refuses gRPC clients on a net/rpc connection", async () => {
    await using kit = inProcessNetRpcClient(Greeter, { Greet: () => "Hello!" });
    assert.equal(await kit.client.Greet(null), "Hello!");
    assert.throws(() => kit.connection.client(Health), { code: "PROTOCOL_UNSUPPORTED" });
  });
});

describe("inProcessPlugin with net/rpc plugins", () => {
  it("is supervised: dispense starts it, a stop and the next call start it again", async () => {
    await using plugin = inProcessPlugin({
      id: "greeter",
      netrpc: { greeter: netrpcPlugin(Greeter, { Greet: () => "Hello!" }) },
    });
    const greeter = plugin.dispense("greeter", Greeter);
    assert.equal(await greeter.Greet(null), "Hello!");
    assert.equal(plugin.manifest.protocol, "netrpc");
    await plugin.stop();
    assert.equal(plugin.state.t, "stopped");
    assert.equal(await greeter.Greet(null), "Hello!");
    assert.equal(plugin.state.t, "running");
  });
});

describe("net/rpc plugins as processes", () => {
  it("startTestPlugin dispenses the plugin set it was given", async () => {
    await using greeter = await startTestPlugin(netrpcPluginCmd, {
      args: ["greeter"],
      handshake: { magicCookieKey: "BASIC_PLUGIN", magicCookieValue: "hello", protocolVersion: 1 },
      plugins: { greeter: Greeter },
    });
    assert.equal(greeter.info.protocol, "netrpc");
    assert.equal(await greeter.dispense("greeter", Greeter).Greet(null), "Hello!");
    await greeter.ping();
  });

  it("a supervised net/rpc plugin killed mid-run fails its call, restarts, and answers again", async () => {
    const spec = {
      cmd: netrpcPluginCmd,
      args: ["tester"],
      handshake: {
        magicCookieKey: "NETRPC_TESTER",
        magicCookieValue: "tester",
        protocolVersion: 1,
      },
      plugins: { tester: Tester },
      startTimeoutMs: 20_000,
    };
    await using plugin = new ManagedPlugin({
      id: "tester",
      launch: (signal) => launchProcess(spec, signal),
      healthIntervalMs: 0,
      restart: { initialDelayMs: 10, jitter: 0 },
    });
    const tester = plugin.dispense("tester", Tester);
    const pid = await tester.Pid({});
    const slow = tester.Sleep(30_000);
    process.kill(pid, "SIGKILL");
    await assert.rejects(slow, { code: "PLUGIN_EXITED" });
    await waitForState(plugin, "running", 20_000);
    const again = await waitFor(() => tester.Pid({}), 20_000, "a call after the restart");
    assert.notEqual(again, pid);
    assert.equal(plugin.restarts, 1);
    assert.equal(plugin.manifest.protocol, "netrpc");
  });
});
