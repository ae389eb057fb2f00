// kill({ signal }): aborting skips what is left of the graceful phase and SIGKILLs at once.
// The no-controller scenario neither exits on Shutdown nor on SIGTERM (its server closes, its
// process stays), so with a 60 s grace only the signal can end it promptly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { processAlive, startFixture } from "../../../test/support/fixture.ts";
import { settlesWithin } from "../../internal/settle.ts";

/** Generous for a loaded machine, and still far short of the 60 s grace period. */
const promptMs = 20_000;

describe("kill with a signal", () => {
  it("an already-aborted signal SIGKILLs a plugin that ignores Shutdown, although killGraceMs is 60000", async () => {
    const plugin = await startFixture("no-controller", { killGraceMs: 60_000 });
    const stopped = plugin.kill({ signal: AbortSignal.abort() });
    assert.equal(await settlesWithin(stopped, promptMs), true, "kill resolved promptly");
    const exit = await plugin.exited;
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(exit.forced, true);
    assert.equal(plugin.state.t, "exited");
    assert.equal(processAlive(plugin.pid), false, "the plugin process is gone");
  });

  it("aborting during the graceful phase SIGKILLs at once, and hurries every kill() sharing the stop", async () => {
    const plugin = await startFixture("no-controller", { killGraceMs: 60_000 });
    const first = plugin.kill();
    const controller = new AbortController();
    const second = plugin.kill({ signal: controller.signal });
    assert.equal(first, second, "one stop, shared");
    assert.equal(plugin.state.t, "stopping");
    controller.abort();
    assert.equal(await settlesWithin(first, promptMs), true, "kill resolved promptly");
    const exit = await plugin.exited;
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(exit.forced, true);
    assert.equal(processAlive(plugin.pid), false, "the plugin process is gone");
  });

  it("a signal that never aborts leaves the graceful stop as it is", async () => {
    const plugin = await startFixture("test-grpc");
    await plugin.kill({ signal: new AbortController().signal });
    assert.deepEqual(await plugin.exited, { code: 0, signal: null, forced: false });
  });
});
