// serve({ signal }): aborting the signal stops a plugin as the host's Shutdown does, and a signal
// aborted before the handshake line leaves nothing behind. Real plugin processes
// (test/fixtures/signal-plugin.ts), started by a plugwire host or run with a host's environment.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collector } from "../../../test/support/collector.ts";
import {
  recordingLogger,
  repoRoot,
  socketDir,
  testHandshake,
  testPlugins,
  waitFor,
} from "../../../test/support/fixture.ts";
import { startPlugin } from "../../host/start/start.ts";
import { generateTlsIdentity } from "../../transport/auto-mtls.ts";
import { serve } from "./serve.ts";

const signalPlugin = join(repoRoot, "test/fixtures/signal-plugin.ts");
const nodeFlags = ["--conditions=plugwire-source"];

/** The fixture's `report {json}` lines on stderr, parsed. */
function reports(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("report "))
    .map((line) => JSON.parse(line.slice("report ".length)) as Record<string, unknown>);
}

function startSignalPlugin(scenario: string, unixSocketDir: string) {
  const stdout = collector();
  const stderr = collector();
  const { logger, entries } = recordingLogger();
  const plugin = startPlugin({
    cmd: process.execPath,
    args: [...nodeFlags, signalPlugin, scenario],
    cwd: repoRoot,
    handshake: testHandshake,
    plugins: testPlugins,
    startTimeoutMs: 20_000,
    unixSocketDir,
    logger,
    syncStdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { plugin, stdout, stderr, entries };
}

/** Runs the fixture as a host would start it, without a host reading it: the process must end by itself. */
function runSignalPlugin(
  scenario: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...nodeFlags, signalPlugin, scenario],
      {
        cwd: repoRoot,
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          TEST_MAGIC_COOKIE: "test",
          PLUGIN_PROTOCOL_VERSIONS: "1",
          PLUGIN_MIN_PORT: "10000",
          PLUGIN_MAX_PORT: "25000",
          ...env,
        },
      },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe("serve() with a signal", () => {
  it("stops when the signal is aborted, as after the host's Shutdown, and removes its socket", async () => {
    using sockets = socketDir();
    const started = startSignalPlugin("abort-on-ping", sockets.dir);
    await using plugin = await started.plugin;
    assert.equal((await plugin.dispense("pingpong").ping({})).msg, "pong");
    assert.deepEqual(await plugin.exited, { code: 0, signal: null, forced: false });
    const stopping = started.entries.find((e) => e.message === "plugin shutting down");
    assert.equal(stopping?.fields.reason, "the serve signal was aborted");
    assert.deepEqual(sockets.leftovers(), [], "the plugin removed its socket");
  });

  it("with exitProcess false, settles `closed` with the socket gone, and the process ends by itself", async () => {
    using sockets = socketDir();
    const started = startSignalPlugin("abort-on-ping-stay", sockets.dir);
    await using plugin = await started.plugin;
    assert.equal((await plugin.dispense("pingpong").ping({})).msg, "pong");
    assert.deepEqual(await plugin.exited, { code: 0, signal: null, forced: false });
    await waitFor(() => reports(started.stderr.text()).length > 0, 5000, "the plugin's report");
    assert.deepEqual(reports(started.stderr.text()), [{ closed: true, socketLeft: false }]);
    assert.deepEqual(sockets.leftovers(), []);
  });

  it("stops once when a handler closes the server as the stop aborts its call", async () => {
    using sockets = socketDir();
    const started = startSignalPlugin("close-while-stopping", sockets.dir);
    await using plugin = await started.plugin;
    await assert.rejects(plugin.dispense("pingpong").ping({}));
    assert.deepEqual(await plugin.exited, { code: 0, signal: null, forced: false });
    await waitFor(() => reports(started.stderr.text()).length > 0, 5000, "the plugin's report");
    assert.deepEqual(reports(started.stderr.text()), [
      { closed: true, stops: 1, socketLeft: false },
    ]);
  });

  for (const scenario of ["already-aborted", "abort-at-once"]) {
    for (const autoMtls of [false, true]) {
      it(`${scenario}${autoMtls ? " (AutoMTLS)" : ""}: rejects with CANCELLED, prints no handshake and leaves nothing behind`, async () => {
        using sockets = socketDir();
        const identity = autoMtls ? await generateTlsIdentity() : undefined;
        const run = await runSignalPlugin(scenario, {
          PLUGIN_UNIX_SOCKET_DIR: sockets.dir,
          ...(identity === undefined ? {} : { PLUGIN_CLIENT_CERT: identity.certPem }),
        });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(reports(run.stderr), [{ code: "CANCELLED", untouched: true }]);
        // No handshake line; what the plugin printed before serve() was held, then given back.
        assert.equal(run.stdout, "printed before serve\n");
        assert.deepEqual(sockets.leftovers(), [], "nothing was bound");
      });
    }
  }

  it("a cancelled serve() gives its output back: a later serve() still announces first", async () => {
    using sockets = socketDir();
    const started = startSignalPlugin("cancel-then-serve", sockets.dir);
    await using plugin = await started.plugin;
    assert.equal((await plugin.dispense("pingpong").ping({})).msg, "pong");
    await waitFor(
      () => started.stdout.text().includes("printed before serve\n"),
      10_000,
      "the held output",
    );
    assert.equal(started.stdout.text(), "printed before serve\n");
    assert.deepEqual(reports(started.stderr.text()), [
      { code: "CANCELLED", untouched: true },
      { code: "CANCELLED", untouched: true },
    ]);
  });

  it("an already-aborted signal serves nothing in this process either", async () => {
    using sockets = socketDir();
    const write = process.stdout.write;
    const sigterm = process.listenerCount("SIGTERM");
    const reason = new Error("not today");
    await assert.rejects(
      serve({
        handshake: testHandshake,
        signal: AbortSignal.abort(reason),
        env: { TEST_MAGIC_COOKIE: "test", PLUGIN_UNIX_SOCKET_DIR: sockets.dir },
      }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "CANCELLED");
        assert.equal(error.cause, reason);
        return true;
      },
    );
    assert.equal(process.stdout.write, write, "stdout was not taken over");
    assert.equal(process.listenerCount("SIGTERM"), sigterm);
    assert.deepEqual(sockets.leftovers(), []);
  });
});
