// Log mirroring (go-plugin client.go logStderr) and raw stderr, against the real fixture plugin.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { recordingLogger, startFixture, waitFor } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";

function collect() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe("plugin logs and stderr", () => {
  it("TestClient_Stderr: raw stderr lines reach the host's stderr writer; the plugin exits by itself", async () => {
    const raw = collect();
    const plugin = await startFixture("stderr", { stderr: raw.stream });
    const exit = await plugin.exited;
    assert.equal(exit.forced, false);
    assert.equal(exit.code, 0);
    assert.match(raw.text(), /HELLO\nWORLD\n/);
  });

  it("TestClient_StderrJSON: JSON that is not hclog is mirrored verbatim", async () => {
    const { logger, entries } = recordingLogger();
    await using plugin = await startFixture("stderr-json", { logger });
    await plugin.ping();
    await waitFor(() => entries.some((e) => e.message === '{"a":1}'), 5000, "mirrored lines");
    for (const line of ['["HELLO"]', "12345", '{"a":1}']) {
      const entry = entries.find((e) => e.message === line);
      assert.equal(entry?.level, "debug", line);
      assert.equal(entry?.fields.plugin, "fixture-plugin");
    }
    assert.ok(
      !entries.some((e) => e.message.startsWith("[LOG_LINE_INVALID]")),
      "plain JSON is not a malformed hclog line",
    );
  });

  it("TestClient_textLogLevel: a [WARN] text prefix sets the level", async () => {
    const { logger, entries } = recordingLogger();
    await using _plugin = await startFixture("level-warn-text", { logger });
    await waitFor(() => entries.some((e) => e.message.includes("98765")), 5000, "warn line");
    assert.equal(entries.find((e) => e.message.includes("98765"))?.level, "warn");
  });

  it("TestClient_logger: hclog fields and levels are mirrored into the host logger", async () => {
    const { logger, entries } = recordingLogger();
    await using plugin = await startFixture("test-grpc", { logger });
    const test = plugin.dispense("test");
    await test.printKV({ Key: "foo", Value: { case: "ValueString", value: "bar" } });
    await test.printKV({ Key: "foo", Value: { case: "ValueInt", value: 12 } });
    await waitFor(
      () => entries.filter((e) => e.message === "PrintKV called").length === 2,
      5000,
      "PrintKV logs",
    );
    const [first, second] = entries.filter((e) => e.message === "PrintKV called");
    assert.equal(first?.level, "info");
    assert.equal(first?.fields.foo, "bar");
    assert.equal(second?.fields.foo, 12);
    assert.equal(first?.fields["@module"], "fixture");
    assert.match(String(first?.fields.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it("TestServerLogPanic: a panic and the lines after it are logged at ERROR and the call fails", async () => {
    const { logger, entries } = recordingLogger();
    const plugin = await startFixture("test-grpc", { logger });
    await assert.rejects(
      plugin.dispense("test").panic({ message: "invalid foo bar" }),
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_EXITED",
    );
    await plugin.exited;
    const index = entries.findIndex((e) => e.message === "panic: invalid foo bar");
    assert.ok(index >= 0);
    // The stack lines that follow are text without a level prefix: panic mode makes them ERROR.
    const stack = entries
      .slice(index + 1)
      .filter((e) => /^(goroutine|\s+at |Error$|$)/.test(e.message));
    assert.ok(stack.length >= 4, `${stack.length} stack lines`);
    assert.deepEqual(new Set(stack.map((e) => e.level)), new Set(["error"]));
  });

  it("TestClient_logStderr: long lines are split for the log but the raw copy is byte-exact", async () => {
    const raw = collect();
    const { logger, entries } = recordingLogger();
    await using _plugin = await startFixture("bad-log-lines", {
      logger,
      stderr: raw.stream,
      logLineBytes: 1024,
    });
    await waitFor(() => entries.some((e) => e.message === "still parsed"), 5000, "last line");
    assert.ok(
      raw.text().includes(`${"x".repeat(100_000)}\n`),
      "raw stderr keeps the long line whole",
    );
    const pieces = entries.filter((e) => /^x+$/.test(e.message));
    assert.equal(pieces.length, Math.ceil(100_000 / 1024));
    assert.ok(pieces.every((e) => e.level === "debug"));
  });

  it("malformed hclog lines are mirrored raw with one LOG_LINE_INVALID warning; the host carries on", async () => {
    const { logger, entries } = recordingLogger();
    await using plugin = await startFixture("bad-log-lines", { logger });
    await waitFor(() => entries.some((e) => e.message === "still parsed"), 5000, "last line");
    const numeric = entries.find((e) => e.message.includes('"@message":5'));
    assert.equal(numeric?.level, "debug");
    const threeDigits = entries.find((e) => e.message.includes("three digits"));
    assert.equal(
      threeDigits?.level,
      "debug",
      "a JavaScript toISOString() timestamp is not hclog's",
    );
    const warnings = entries.filter((e) => e.message.startsWith("[LOG_LINE_INVALID]"));
    assert.ok(warnings.length >= 1 && warnings.length <= 2, `${warnings.length} warnings`);
    assert.match(warnings[0]!.message, /plugin fixture-plugin/);
    const parsed = entries.find((e) => e.message === "still parsed");
    assert.equal(parsed?.level, "warn");
    assert.equal(parsed?.fields.n, 1);
    await plugin.ping();
  });
});
