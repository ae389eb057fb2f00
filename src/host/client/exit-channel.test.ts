// plugwire:exit is published once per plugin process exit: expected when the host stopped it,
// not when it crashed.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterEach, beforeEach, describe, it } from "node:test";
import { startFixture } from "../../../test/support/fixture.ts";
import type { ExitMessage } from "../../internal/diagnostics.ts";

describe("plugwire:exit", () => {
  let messages: ExitMessage[] = [];
  const record = (message: unknown) => messages.push(message as ExitMessage);
  beforeEach(() => {
    messages = [];
    subscribe("plugwire:exit", record);
  });
  afterEach(() => unsubscribe("plugwire:exit", record));

  it("is published once, expected, when kill() stops the plugin", async () => {
    const plugin = await startFixture("test-grpc");
    await plugin.kill();
    await plugin.kill();
    assert.deepEqual(
      messages.filter((m) => m.pid === plugin.pid),
      [{ plugin: "fixture-plugin", pid: plugin.pid, code: 0, signal: null, expected: true }],
    );
  });

  it("is published once, not expected, when the plugin crashes", async () => {
    const plugin = await startFixture("test-grpc");
    process.kill(plugin.pid, "SIGKILL");
    await plugin.exited;
    await plugin.kill(); // after the exit: nothing more to report
    assert.deepEqual(
      messages.filter((m) => m.pid === plugin.pid),
      [
        {
          plugin: "fixture-plugin",
          pid: plugin.pid,
          code: null,
          signal: "SIGKILL",
          expected: false,
        },
      ],
    );
  });
});
