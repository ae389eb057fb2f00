// Kill, crash, in-flight failures, deadlines and cancellation across real processes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  processAlive,
  recordingLogger,
  repoRoot,
  startFixture,
  testHandshake,
  testPlugins,
  waitFor,
  waitForExit,
} from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { startPlugin } from "../start/start.ts";

const cancelBurstPlugin = join(repoRoot, "test/fixtures/hostile/cancel-burst-plugin.ts");

describe("plugin lifecycle", () => {
  it("TestClient_grpc_servercrash: a killed plugin is noticed within 2 s and in-flight calls fail fast", async () => {
    const plugin = await startFixture("test-grpc");
    const inFlight = plugin.dispense("fixture").sleep({ durationMs: 30_000 });
    await plugin.ping(); // sent after the call on the same connection: the call has reached the plugin
    process.kill(plugin.pid, "SIGKILL");
    const started = Date.now();
    await assert.rejects(
      inFlight,
      (e: unknown) =>
        e instanceof PluginError && e.code === "PLUGIN_EXITED" && e.plugin === "fixture-plugin",
    );
    const exit = await plugin.exited;
    assert.ok(Date.now() - started < 2000);
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(plugin.state.t, "exited");
    assert.equal(
      existsSync(plugin.address),
      false,
      "the killed plugin's socket was removed by the host",
    );
    await assert.rejects(
      plugin.dispense("test").double({ Input: 1 }),
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_EXITED",
    );
  });

  it("kill is idempotent and concurrent calls share one stop", async () => {
    const plugin = await startFixture("test-grpc");
    const a = plugin.kill();
    const b = plugin.kill();
    assert.equal(a, b);
    await a;
    await plugin.kill();
    assert.equal((await plugin.exited).forced, false);
  });

  it("a plugin that ignores Shutdown is SIGKILLed after the grace period", async () => {
    const { logger, entries } = recordingLogger();
    const plugin = await startFixture("no-controller", { killGraceMs: 300, logger });
    const started = Date.now();
    await plugin.kill();
    const elapsed = Date.now() - started;
    const exit = await plugin.exited;
    assert.equal(exit.forced, true);
    assert.equal(exit.signal, "SIGKILL");
    assert.ok(elapsed >= 250 && elapsed < 3000, `took ${elapsed} ms`);
    assert.ok(
      entries.some((e) => e.level === "warn" && e.message === "plugin failed to exit gracefully"),
    );
  });

  it("kill takes the plugin's children along (process group)", async () => {
    const { logger, entries } = recordingLogger();
    const plugin = await startFixture("grandchild", { logger });
    await waitFor(
      () => entries.some((e) => e.message === "grandchild started"),
      5000,
      "grandchild",
    );
    const grandchild = Number(entries.find((e) => e.message === "grandchild started")?.fields.pid);
    assert.ok(processAlive(grandchild));
    await plugin.kill();
    await waitForExit(grandchild, 2000);
  });

  it("a deadline reaches the plugin's handler, which sees its signal fire", async () => {
    await using plugin = await startFixture("test-grpc");
    const fixture = plugin.dispense("fixture");
    const seen = await fixture.sleep({ durationMs: 1 }, { timeoutMs: 3000 });
    assert.ok(
      seen.deadlineRemainingMs > 2000 && seen.deadlineRemainingMs <= 3000,
      String(seen.deadlineRemainingMs),
    );
    await assert.rejects(
      fixture.sleep({ durationMs: 30_000 }, { timeoutMs: 200 }),
      (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
    );
    await waitFor(
      async () => (await fixture.cancelled({})).cancelled === 1,
      3000,
      "handler cancellation",
    );
  });

  it("aborting a call cancels the plugin's handler", async () => {
    // The cancel-burst plugin reports the handlers that started: the abort lands once this one
    // runs (before the request arrives, the plugin may never start it at all).
    await using plugin = await startPlugin({
      cmd: process.execPath,
      args: ["--conditions=plugwire-source", cancelBurstPlugin],
      handshake: testHandshake,
      plugins: testPlugins,
      startTimeoutMs: 20_000,
    });
    const fixture = plugin.dispense("fixture");
    const controller = new AbortController();
    const call = fixture.sleep({ durationMs: 30_000 }, { signal: controller.signal });
    await waitFor(
      async () => (await fixture.cancelled({})).lastReason === "started=1",
      10_000,
      "the handler to start",
    );
    controller.abort(new Error("user pressed stop"));
    await assert.rejects(
      call,
      (e: unknown) =>
        e instanceof PluginError && e.code === "CANCELLED" && /user pressed stop/.test(e.message),
    );
    await waitFor(
      async () => (await fixture.cancelled({})).cancelled === 1,
      3000,
      "handler cancellation",
    );
  });

  it("streams of every kind work across the process boundary", async () => {
    await using plugin = await startFixture("test-grpc");
    const fixture = plugin.dispense("fixture");
    const counted: number[] = [];
    for await (const r of fixture.count({ n: 100 })) counted.push(r.i);
    assert.equal(counted.length, 100);
    async function* ints() {
      for (let i = 21; i < 27; i++) yield { Input: i };
    }
    const echoed: number[] = [];
    for await (const r of plugin.dispense("test").stream(ints())) echoed.push(r.Output);
    assert.deepEqual(echoed, [21, 22, 23, 24, 25, 26]);
  });

  it("message size limits are enforced on both sides and configurable", async () => {
    await using small = await startFixture("test-grpc", { maxSendMessageBytes: 1024 });
    await assert.rejects(
      small.dispense("fixture").echo({ payload: new Uint8Array(2048) }),
      (e: unknown) => e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED",
    );
    await using big = await startFixture("test-grpc");
    const payload = new Uint8Array(16 * 1024 * 1024).fill(7);
    const reply = await big.dispense("fixture").echo({ payload });
    assert.equal(reply.payload.length, payload.length);
  });
});
