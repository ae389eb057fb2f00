// Output before the handshake is always safe: whatever a TypeScript plugin or its dependencies
// print before serve() (at import time included) never reaches the handshake line, and reaches
// the host as plugin output once connected. Real plugin processes, plugwire and Go hosts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collector } from "../../../test/support/collector.ts";
import { repoRoot, testHandshake, testPlugins, waitFor } from "../../../test/support/fixture.ts";
import { runGoHost } from "../../../test/support/interop.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { startPlugin } from "../../host/start/start.ts";

const fixtures = join(repoRoot, "test/fixtures");
const noisyPlugin = join(fixtures, "noisy-plugin.ts");
const lateGuardPlugin = join(fixtures, "late-guard-plugin.ts");
const banner = "banner-dep v1.0 ready\n";
/** Node flags of every plugin here; `plugwire/plugin` resolves to src/ (the package's own condition). */
const nodeFlags = ["--conditions=plugwire-source"];

function startNode(args: string[], options: { handshake?: typeof testHandshake } = {}) {
  const stdout = collector();
  const stderr = collector();
  const plugin = startPlugin({
    cmd: process.execPath,
    args: [...nodeFlags, ...args],
    cwd: repoRoot,
    handshake: options.handshake ?? testHandshake,
    plugins: testPlugins,
    startTimeoutMs: 20_000,
    syncStdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { plugin, stdout, stderr };
}

/** Calls, then prints through the stdio service: the held output arrives first, in order. */
async function assertCallsAndOutput(
  started: ReturnType<typeof startNode>,
  expectedBefore: string,
): Promise<void> {
  await using plugin = await started.plugin;
  const test = plugin.dispense("test");
  assert.equal((await test.double({ Input: 21 })).Output, 42);
  await test.printStdio({ stdout: Buffer.from("after serve\n"), stderr: new Uint8Array() });
  await waitFor(() => started.stdout.text().includes("after serve\n"), 10_000, "plugin output");
  assert.equal(started.stdout.text(), `${expectedBefore}after serve\n`);
}

function runNode(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...nodeFlags, ...args],
      { cwd: repoRoot, env, timeout: 30_000 },
      (_error, stdout) => resolve({ code: child.exitCode, stdout }),
    );
  });
}

/** What any go-plugin host puts in a plugin's environment (and nothing else does). */
const hostEnv = {
  PLUGIN_PROTOCOL_VERSIONS: "1",
  PLUGIN_MIN_PORT: "10000",
  PLUGIN_MAX_PORT: "25000",
};

describe("output before the handshake", () => {
  it("a banner printed by a dependency at import and console.log before serve() reach a plugwire host's syncStdout, in order", async () => {
    await assertCallsAndOutput(
      startNode([noisyPlugin, "test-grpc"]),
      `${banner}booting…\nstill booting\n`,
    );
  });

  it("the same plugin starts under go-plugin's own host, and its early output reaches SyncStdout first", async () => {
    const report = await runGoHost({
      cmd: process.execPath,
      args: [...nodeFlags, noisyPlugin, "test-grpc"],
      flags: ["-scenario", "stdio"],
      cwd: repoRoot,
    });
    assert.equal(report.ok, true, `${report.error}\n${report.pluginStderr}`);
    assert.equal(report.syncStdout, `${banner}booting…\nstill booting\nout-bytes\n`);
  });

  it("a module imported before plugwire/plugin is safe with node --import plugwire/plugin", async () => {
    await assertCallsAndOutput(
      startNode(["--import", "plugwire/plugin", lateGuardPlugin, "test-grpc"]),
      `${banner}booting…\n`,
    );
  });

  it("without --import, that module's banner comes first and breaks the handshake (why --import exists)", async () => {
    const { plugin } = startNode([lateGuardPlugin, "test-grpc"]);
    await assert.rejects(
      plugin,
      (error: unknown) =>
        error instanceof PluginError &&
        error.code === "HANDSHAKE_INVALID" &&
        error.message.includes("Unrecognized remote plugin message: banner-dep v1.0 ready"),
    );
  });

  it("a plugin that exits before its handshake shows what it held in the host's error", async () => {
    // No serve() at all (the guard flushes at exit), and serve() refusing the cookie.
    const wrongCookie = { ...testHandshake, magicCookieValue: "another" };
    for (const [args, handshake] of [
      [[noisyPlugin, "exit-early"], testHandshake],
      [[noisyPlugin, "test-grpc"], wrongCookie],
    ] as const) {
      await assert.rejects(startNode([...args], { handshake }).plugin, (error: unknown) => {
        assert.ok(error instanceof PluginError);
        assert.match(error.message, /banner-dep v1\.0 ready/);
        return true;
      });
    }
  });

  it("held output is written to the real stdout at exit when serve() never runs", async () => {
    const script = `import "plugwire/plugin"; console.log("held until exit"); process.stdout.write("and this\\n");`;
    const run = await runNode(["--input-type=module", "-e", script], {
      ...process.env,
      ...hostEnv,
    });
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "held until exit\nand this\n");
  });

  it("a process not launched by a host keeps its stdout (tests, hosts, a plugin run by hand)", async () => {
    const script = `import "plugwire/plugin"; process.stdout.write("at once\\n"); setInterval(() => {}, 1e6);`;
    const partial: Array<Record<string, string>> = [{}, { PLUGIN_PROTOCOL_VERSIONS: "1" }];
    for (const env of partial) {
      const clean = { ...process.env, ...env };
      for (const key of Object.keys(hostEnv)) if (!(key in env)) delete clean[key];
      // It prints while still running: we see the line, then stop it.
      const child = execFile(
        process.execPath,
        [...nodeFlags, "--input-type=module", "-e", script],
        {
          cwd: repoRoot,
          env: clean,
        },
      );
      let out = "";
      child.stdout!.on("data", (chunk: string) => (out += chunk));
      try {
        await waitFor(() => out === "at once\n", 20_000, `output with ${JSON.stringify(env)}`);
      } finally {
        child.kill();
      }
    }
  });
});
