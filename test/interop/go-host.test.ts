// A real go-plugin v1.8.0 host (interop/go/cmd/goplugin-host) loads plugwire's TypeScript plugins.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fixturePlugin, repoRoot } from "../support/fixture.ts";
import type { GoHostReport } from "../support/interop.ts";
import { goBinary, runGoHost } from "../support/interop.ts";

const tsKvPlugin = join(repoRoot, "examples/kv/plugin-ts/kv-plugin");

function assertOk(report: GoHostReport): void {
  assert.equal(report.ok, true, `${report.scenario}: ${report.error}\n${report.pluginStderr}`);
  assert.equal(report.exited, true, "the plugin exited after Kill");
}

const transports = [
  { label: "unix", env: {} },
  { label: "tcp", env: { PLUGWIRE_NETWORK: "tcp" } },
];
const tlsModes = [
  { label: "plain", flags: [] },
  { label: "AutoMTLS", flags: ["-automtls"] },
];

describe("Go host → TypeScript plugin", () => {
  for (const transport of transports) {
    for (const tls of tlsModes) {
      describe(`${transport.label}, ${tls.label}`, () => {
        const run = (scenario: string, extra: string[] = []) =>
          runGoHost({
            cmd: fixturePlugin,
            args: ["test-grpc"],
            flags: ["-scenario", scenario, ...tls.flags, ...extra],
            env: transport.env,
          });

        it("calls a unary method (double)", async () => {
          const report = await run("double");
          assertOk(report);
          assert.deepEqual(report.result, { output: 42 });
          const address = report.hostLog.find((e) => e["@message"] === "plugin address");
          assert.equal(address?.network, transport.label);
        });

        it("streams in every direction", async () => {
          const report = await run("stream");
          assertOk(report);
          assert.deepEqual(report.result, {
            count: [0, 1, 2, 3, 4],
            sum: { total: 55, count: 10 },
            echoStream: ["one", "two", "three"],
            testStream: [21, 22, 23, 24, 25, 26],
          });
        });

        it("syncs the plugin's stdout and stderr into SyncStdout/SyncStderr", async () => {
          const report = await run("stdio");
          assertOk(report);
          assert.equal(report.syncStdout, "out-bytes\n");
          assert.equal(report.syncStderr, "err-bytes\n");
        });

        it("mirrors hclog lines with their level and fields", async () => {
          const report = await run("logs");
          assertOk(report);
          const entries = (report.result?.entries ?? []) as Array<Record<string, unknown>>;
          assert.equal(entries.length, 3);
          assert.ok(entries.every((e) => e["@level"] === "info"));
          assert.equal(entries[0]?.foo, "bar");
          assert.equal(entries[1]?.answer, 42);
          assert.equal(entries[2]?.quote, 'say "hi"');
          assert.ok(
            !report.hostLog.some(
              (e) => e["@level"] === "debug" && String(e["@message"]).startsWith('{"@level"'),
            ),
            "no line fell back to raw text",
          );
        });

        it("shuts down gracefully on Kill, before go-plugin's 2 s force-kill", async () => {
          const report = await run("shutdown");
          assertOk(report);
          assert.equal(report.result?.graceful, true);
          assert.equal(report.result?.forced, false);
          assert.equal(report.result?.processExitLevel, "info");
        });

        it("passes a Go deadline and cancellation to the TypeScript handler", async () => {
          const deadline = await run("deadline");
          assertOk(deadline);
          assert.equal(deadline.result?.code, "DeadlineExceeded");
          assert.equal(deadline.result?.handlerCancelled, 1);
          const remaining = Number(deadline.result?.deadlineRemainingMs);
          // The 1 s deadline arrived (how much of it is left depends on the machine's load).
          assert.ok(remaining > 0 && remaining <= 1000, `handler saw ${remaining} ms left`);
          const cancel = await run("cancel");
          assertOk(cancel);
          assert.equal(cancel.result?.code, "Canceled");
          assert.equal(cancel.result?.handlerCancelled, 1);
        });

        it("calls back through the broker both ways (bidirectional)", async () => {
          const report = await run("bidirectional");
          assertOk(report);
          assert.equal(report.result?.pong, "pong");
          assert.equal(typeof report.result?.pluginServedId, "number");
        });

        it("answers health pings", async () => {
          const report = await run("ping");
          assertOk(report);
          assert.equal(report.result?.beforeOk, true);
          assert.equal(report.result?.afterOk, false);
        });
      });
    }
  }

  it("negotiates the highest common version across several", async () => {
    const high = await runGoHost({
      cmd: fixturePlugin,
      args: ["test-versioned"],
      flags: ["-versions", "1,2,3", "-scenario", "double"],
    });
    assertOk(high);
    assert.equal(high.negotiatedVersion, 3);
    const low = await runGoHost({
      cmd: fixturePlugin,
      args: ["test-versioned"],
      flags: ["-versions", "2", "-scenario", "double"],
    });
    assertOk(low);
    assert.equal(low.negotiatedVersion, 2);
  });

  it("reports a version mismatch with go-plugin's own error", async () => {
    const report = await runGoHost({
      cmd: fixturePlugin,
      args: ["test-grpc"],
      flags: ["-versions", "7", "-scenario", "negotiate"],
    });
    assert.equal(report.ok, false);
    assert.match(
      report.error,
      /incompatible API version with plugin. Plugin version: 1, Client versions: \[7\]/,
    );
  });

  it("refuses a wrong cookie with go-plugin's message and exit status 1", async () => {
    const report = await runGoHost({
      cmd: fixturePlugin,
      args: ["test-grpc"],
      flags: ["-cookie-value", "wrong", "-scenario", "negotiate"],
    });
    assert.equal(report.ok, false);
    assert.match(
      report.error,
      /plugin exited before we could connect|Unrecognized remote plugin message/,
    );
    assert.match(
      report.pluginStderr,
      /This binary is a plugin. These are not meant to be executed directly./,
    );
  });

  for (const transport of transports) {
    for (const tls of tlsModes) {
      it(`multiplexed (yamux, ${transport.label}, ${tls.label}): unary, streams, stdio and callbacks over one connection`, async () => {
        for (const scenario of ["double", "stream", "stdio", "bidirectional"]) {
          const report = await runGoHost({
            cmd: fixturePlugin,
            args: ["test-grpc"],
            flags: ["-mux", "-scenario", scenario, ...tls.flags],
            env: transport.env,
          });
          assertOk(report);
        }
      });
    }
  }

  it("a panic in a TypeScript plugin is logged at ERROR by the Go host", async () => {
    const report = await runGoHost({
      cmd: fixturePlugin,
      args: ["test-grpc"],
      flags: ["-scenario", "panic"],
    });
    assertOk(report);
    assert.equal(report.result?.panicLevel, "error");
  });

  it("go-plugin's own KV example host runs the TypeScript KV plugin (KV_PLUGIN)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-kv-"));
    try {
      const { execFileSync } = await import("node:child_process");
      const env = { ...process.env, KV_PROTO: "grpc", KV_PLUGIN: tsKvPlugin };
      execFileSync(goBinary("kv-example-host"), ["put", "hello", "world"], {
        cwd: dir,
        env,
        timeout: 30_000,
      });
      const got = execFileSync(goBinary("kv-example-host"), ["get", "hello"], {
        cwd: dir,
        env,
        timeout: 30_000,
      }).toString();
      assert.equal(got, "world\n\nWritten from plugin-ts\n");
      assert.equal(readFileSync(join(dir, "kv_hello"), "utf8"), "world\n\nWritten from plugin-ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
