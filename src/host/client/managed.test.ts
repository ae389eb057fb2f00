// No orphans: plugins go away however the host ends.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { processAlive, repoRoot, waitFor } from "../../../test/support/fixture.ts";

const hostScript = join(repoRoot, "test/fixtures/host.ts");

async function startHost(mode: string) {
  const host = spawn(process.execPath, [hostScript, mode, "2"], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  let output = "";
  host.stdout.setEncoding("utf8");
  host.stdout.on("data", (chunk: string) => {
    output += chunk;
  });
  await waitFor(() => output.includes("\n"), 20_000, "the host to start its plugins");
  const { pids, dirs } = JSON.parse(output.split("\n")[0]!) as { pids: number[]; dirs: string[] };
  assert.equal(pids.length, 2);
  assert.ok(pids.every(processAlive));
  return { host, pids, dirs };
}

describe("managed plugins and orphans", () => {
  for (const mode of ["exit", "throw"]) {
    it(`stops every plugin when the host ends by ${mode === "exit" ? "process.exit()" : "an uncaught error"}`, async () => {
      const { host, pids, dirs } = await startHost(mode);
      await once(host, "exit");
      await waitFor(() => !pids.some(processAlive), 2000, "plugins to be gone");
      assert.deepEqual(
        dirs.filter((dir) => existsSync(dir)),
        [],
        "socket directories removed",
      );
    });
  }

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`stops every plugin gracefully on ${signal} and the host still dies of it`, async () => {
      const { host, pids, dirs } = await startHost("wait");
      host.kill(signal);
      const [code, received] = (await once(host, "exit")) as [number | null, NodeJS.Signals | null];
      assert.equal(received, signal);
      assert.equal(code, null);
      await waitFor(() => !pids.some(processAlive), 2000, "plugins to be gone");
      assert.deepEqual(
        dirs.filter((dir) => existsSync(dir)),
        [],
        "socket directories removed",
      );
    });
  }

  it("plugins exit by themselves within 2 s when the host is SIGKILLed", async () => {
    const { host, pids } = await startHost("wait");
    host.kill("SIGKILL");
    await once(host, "exit");
    const killedAt = Date.now();
    await waitFor(() => !pids.some(processAlive), 2500, "orphaned plugins to exit");
    assert.ok(Date.now() - killedAt <= 2000, `took ${Date.now() - killedAt} ms`);
  });

  it("Go plugins die with the host too when it is SIGKILLed (dieWithHost)", async () => {
    const { host, pids } = await startHost("wait-go");
    host.kill("SIGKILL");
    await once(host, "exit");
    await waitFor(() => !pids.some(processAlive), 2000, "Go plugins to be gone");
  });

  it("TestClient_Stdin: the plugin reads the host's stdin", async () => {
    const host = spawn(process.execPath, [hostScript, "stdin"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    host.stdin.end("hello");
    let output = "";
    host.stdout.setEncoding("utf8");
    host.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    await once(host, "exit");
    assert.deepEqual(JSON.parse(output), { exitCode: 0 });
  });
});
