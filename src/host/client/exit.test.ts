// A host script exits by itself the moment plugwire is done: after kill(), after a plugin exits
// on its own, after close() of a ManagedPlugin or a ServiceManager. Each case runs in its own host
// process (test/fixtures/exit-host.ts) with a 60 s kill grace: a grace timer left behind would keep
// it alive far past the deadline below, and shows in the resources it prints.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fixtureExecutable, tempDir } from "../../../test/manager/support.ts";
import { repoRoot } from "../../../test/support/fixture.ts";

interface Report {
  mode: string;
  before: string[];
  after: string[];
  result: Record<string, unknown>;
  pluginStderr: string;
}

/** Generous for a loaded machine, and still well short of the 60 s grace period. */
const exitDeadlineMs = 30_000;

/** Runs the host in `mode`; rejects unless it exits by itself, with status 0, within the deadline. */
function runHost(mode: string, args: string[] = []): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=plugwire-source", join(repoRoot, "test/fixtures/exit-host.ts"), mode, ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `the host (${mode}) was still alive ${exitDeadlineMs} ms after starting: something keeps its event loop alive\n${stdout}${stderr}`,
        ),
      );
    }, exitDeadlineMs);
    child.once("close", (code, signal) => {
      clearTimeout(deadline);
      if (code !== 0) {
        reject(new Error(`the host (${mode}) failed (${code ?? signal}):\n${stdout}${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Report);
    });
  });
}

/** Handles and timers plugwire may not leave behind (anything beyond the host's baseline). */
function leftovers(report: Pick<Report, "before" | "after">): string[] {
  const left = [...report.after];
  for (const resource of report.before) {
    const at = left.indexOf(resource);
    if (at >= 0) left.splice(at, 1);
  }
  return left;
}

describe("a host process ends when plugwire says it is done", () => {
  const tmp = tempDir();
  after(() => tmp[Symbol.dispose]());
  const provider = fixtureExecutable(tmp.dir, "provider", "providers");

  it("after kill() of a plugin it called, streamed from and brokered with (no grace timer)", async () => {
    const report = await runHost("kill");
    assert.equal(report.result.double, 42);
    assert.deepEqual(report.result.exit, {
      t: "exited",
      exit: { code: 0, signal: null, forced: false },
    });
    assert.deepEqual(leftovers(report), [], "nothing left after kill() resolved");
    const afterStart = report.result.afterStart as string[];
    assert.ok(!afterStart.includes("Timeout"), `startPlugin left a timer: ${afterStart}`);
  });

  it("after a plugin closes its own server and exits by itself (both processes hold nothing)", async () => {
    const report = await runHost("self-exit");
    assert.equal(report.result.ping, "pong");
    assert.deepEqual(report.result.exit, { code: 0, signal: null, forced: false });
    assert.deepEqual(leftovers(report), [], "the host holds nothing after the exit");
    const line = report.pluginStderr
      .split("\n")
      .find((l) => l.startsWith("resources after close: "));
    assert.ok(line !== undefined, report.pluginStderr);
    const plugin = JSON.parse(line.slice("resources after close: ".length)) as Report;
    assert.deepEqual(leftovers(plugin), [], "the plugin holds nothing after PluginServer.close()");
  });

  it("after startPlugin rejects (the plugin exited before its handshake)", async () => {
    const report = await runHost("start-fails");
    assert.match(String(report.result.error), /PLUGIN_EXITED/);
    assert.deepEqual(leftovers(report), []);
  });

  it("after close() of a supervised ManagedPlugin with health checks running", async () => {
    const report = await runHost("managed", [provider]);
    assert.match(String(report.result.ping), /^pong from \d+$/);
    assert.equal(report.result.state, "stopped");
    assert.deepEqual(leftovers(report), []);
  });

  it("after close() of a ServiceManager", async () => {
    const report = await runHost("manager", [provider]);
    assert.match(String(report.result.ping), /^pong from \d+$/);
    assert.deepEqual(leftovers(report), []);
  });
});
