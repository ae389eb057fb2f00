import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Provider } from "../../src/gen/plugwire/manifest/v1/manifest_pb.js";
import { PluginError } from "../../src/index.ts";
import { PluginRegistry } from "../../src/manager/index.ts";
import { waitForState } from "../../src/testing/index.ts";
import { PingPong } from "../fixtures/gen/grpctest_pb.js";
import { alive, managedFixture, waitFor } from "./support.ts";

const pidOf = async (plugin: ReturnType<typeof managedFixture>) => {
  const { outputJson } = await plugin.client(Provider).execute({ name: "pid", inputJson: "{}" });
  return (JSON.parse(outputJson) as { pid: number }).pid;
};

describe("supervision", () => {
  it("starts a plugin lazily on first use and keeps its manifest", async () => {
    await using plugin = managedFixture("providers");
    assert.equal(plugin.state.t, "stopped");
    const reply = await plugin.client(PingPong).ping({});
    assert.match(reply.msg, /^pong from \d+$/);
    assert.equal(plugin.state.t, "running");
    assert.equal(plugin.manifest.version, "1.2.3");
    assert.equal(plugin.manifest.origin, "plugin");
    assert.deepEqual(
      plugin.manifest.providers.map((p) => p.name),
      ["echo", "add", "sleep", "settings", "pid"],
    );
    assert.ok(plugin.manifest.services.includes("grpctest.PingPong"));
  });

  it("fails a call in flight when the plugin is SIGKILLed, restarts it, and serves calls after", async () => {
    await using plugin = managedFixture("providers", {
      restart: { initialDelayMs: 50, jitter: 0 },
    });
    const firstPid = await pidOf(plugin);
    const inFlight = plugin
      .client(Provider)
      .execute({ name: "sleep", inputJson: JSON.stringify({ ms: 10_000 }) });
    // The call is in the plugin before it dies: a health call sent after it on the same
    // connection has come back.
    await (await plugin.ready()).ping();
    process.kill(firstPid, "SIGKILL");
    await assert.rejects(inFlight, (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "PLUGIN_EXITED");
      return true;
    });
    // A call made while it restarts waits for it.
    const secondPid = await pidOf(plugin);
    assert.notEqual(secondPid, firstPid);
    assert.equal(plugin.state.t, "running");
    assert.equal(plugin.restarts, 1);
    assert.ok(!alive(firstPid));
  });

  it("disables a plugin that keeps crashing, and says why", async () => {
    await using plugin = managedFixture("crash-after", {
      args: ["300"],
      restart: { initialDelayMs: 20, jitter: 0 },
      breaker: { maxCrashes: 3, windowMs: 30_000 },
    });
    const states: string[] = [];
    plugin.on("state", (s) => states.push(s.t));
    plugin.start().catch(() => {}); // it may die before it is described
    const disabled = await waitForState(plugin, "disabled", 20_000);
    assert.equal(disabled.t, "disabled");
    if (disabled.t !== "disabled") return;
    assert.equal(disabled.error.code, "PLUGIN_DISABLED");
    assert.match(disabled.error.message, /disabled after 3 crashes within 30000 ms/);
    assert.equal(plugin.restarts, 2);
    assert.deepEqual(states.slice(0, 2), ["starting", "running"]);
    assert.ok(states.includes("crashed") && states.includes("restarting"), states.join());
    await assert.rejects(plugin.client(PingPong).ping({}), { code: "PLUGIN_DISABLED" });
    // enable() re-arms it.
    plugin.enable();
    assert.equal(plugin.state.t, "stopped");
  });

  it("does not restart a plugin the host stopped", async () => {
    await using plugin = managedFixture("providers");
    const pid = await pidOf(plugin);
    await plugin.stop();
    assert.equal(plugin.state.t, "stopped");
    assert.ok(!alive(pid));
    assert.equal(plugin.restarts, 0);
    // The next call starts it again.
    assert.notEqual(await pidOf(plugin), pid);
  });

  it("reports a start failure to the first caller with its reason", async () => {
    await using plugin = managedFixture("crash-on-start", { autoRestart: false });
    await assert.rejects(plugin.client(PingPong).ping({}), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "PLUGIN_EXITED");
      assert.match(error.message, /cannot open database/);
      return true;
    });
    assert.equal(plugin.state.t, "crashed");
  });

  it("restarts a plugin whose health pings fail", async () => {
    await using plugin = managedFixture("providers", {
      healthIntervalMs: 50,
      healthTimeoutMs: 200,
      unhealthyAfter: 1,
      restart: { initialDelayMs: 10, jitter: 0 },
    });
    const pid = await pidOf(plugin);
    process.kill(pid, "SIGSTOP"); // hung, not dead
    try {
      await waitFor(() => plugin.restarts === 1 && plugin.state.t === "running", 10_000, "restart");
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {}
    }
    await waitFor(() => !alive(pid), 5000, "the hung plugin to be gone");
  });

  it("calls named providers with JSON through the registry", async () => {
    await using registry = new PluginRegistry();
    registry.add(managedFixture("providers"));
    assert.deepEqual(await registry.callProvider("add", { a: 2, b: 3 }), { sum: 5 });
    assert.deepEqual(await registry.callProvider("fixture-providers/echo", { x: [1, "y"] }), {
      x: [1, "y"],
    });
    await assert.rejects(registry.callProvider("add", { a: 2 }), {
      code: "INVALID_ARGUMENT",
      message: /missing required property `b`/,
    });
    await assert.rejects(registry.callProvider("nope", {}), { code: "PROVIDER_UNKNOWN" });
    assert.deepEqual(
      registry.whoProvides("grpctest.PingPong").map((p) => p.id),
      ["fixture-providers"],
    );
    await registry.close();
    assert.equal(registry.get("fixture-providers")?.state.t, "stopped");
    assert.equal(registry.get("fixture-providers")?.manifest.version, "1.2.3");
  });
});
