// No orphans, grandchildren included: a plugin's child that ignores SIGTERM and holds the plugin's
// stdio goes with its plugin when the host is SIGKILLed, in every mode, and so does the plugin's
// private socket directory (test/fixtures/hostile/tree-host.ts, tree-plugin.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { leftovers, nothingLeft, recordedPids, running } from "../fixtures/hostile/leftovers.ts";
import { node, repoRoot, tempDir, waitFor } from "./support.ts";

const treeHost = join(repoRoot, "test/fixtures/hostile/tree-host.ts");

describe("no orphans: process trees", { timeout: 120_000 }, () => {
  for (const mode of ["plain", "unmanaged", "manager"]) {
    it(`${mode}: a SIGKILLed host leaves no plugin, no grandchild and no socket directory`, async () => {
      using temp = tempDir();
      const marker = `plugwire-hostile-gc-${process.pid}-${mode}-${Date.now()}`;
      const pidFile = join(temp.dir, "pids");
      const host = spawn(node, ["--conditions=plugwire-source", treeHost, mode, "2"], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, HOSTILE_MARKER: marker, HOSTILE_PIDS: pidFile },
      });
      const [line] = (await once(createInterface({ input: host.stdout! }), "line")) as [string];
      const { dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
      const recorded = recordedPids(pidFile);
      assert.equal(recorded.plugin.length, 2);
      assert.equal(recorded.grandchild.length, 2);
      assert.ok([...recorded.plugin, ...recorded.grandchild].every(running), "the trees run");
      host.kill("SIGKILL");
      await once(host, "exit");
      const all = [...recorded.plugin, ...recorded.grandchild];
      await waitFor(() => nothingLeft(leftovers(all, marker, dirs)), 5000, "the trees to go").catch(
        (error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(leftovers(all, marker, dirs))}`);
        },
      );
    });
  }

  // Handled signals (the host's exit cleanup runs) and one it does not handle (SIGQUIT: only the
  // tree guard is left to act): every death ends the trees.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
    it(`plain: a host killed by ${signal} leaves no plugin, no grandchild and no socket directory`, async () => {
      using temp = tempDir();
      const marker = `plugwire-hostile-gc-${process.pid}-${signal}-${Date.now()}`;
      const pidFile = join(temp.dir, "pids");
      const host = spawn(node, ["--conditions=plugwire-source", treeHost, "plain", "1"], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, HOSTILE_MARKER: marker, HOSTILE_PIDS: pidFile },
      });
      const [line] = (await once(createInterface({ input: host.stdout! }), "line")) as [string];
      const { dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
      const recorded = recordedPids(pidFile);
      assert.equal(recorded.grandchild.length, 1);
      host.kill(signal);
      await once(host, "exit");
      const all = [...recorded.plugin, ...recorded.grandchild];
      await waitFor(() => nothingLeft(leftovers(all, marker, dirs)), 5000, "the tree to go").catch(
        (error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(leftovers(all, marker, dirs))}`);
        },
      );
    });
  }

  it("manager: on SIGTERM the host stops its supervised plugins and restarts none", async () => {
    using temp = tempDir();
    const marker = `plugwire-hostile-gc-${process.pid}-sigterm-${Date.now()}`;
    const pidFile = join(temp.dir, "pids");
    const events = join(temp.dir, "events");
    const host = spawn(node, ["--conditions=plugwire-source", treeHost, "manager", "2"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        HOSTILE_MARKER: marker,
        HOSTILE_PIDS: pidFile,
        HOSTILE_EVENTS: events,
      },
    });
    const [line] = (await once(createInterface({ input: host.stdout! }), "line")) as [string];
    const { dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
    const before = recordedPids(pidFile);
    assert.equal(before.plugin.length, 2);
    host.kill("SIGTERM");
    const [, signal] = (await once(host, "exit")) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, "SIGTERM", "the host dies of the signal");
    const all = () => [...recordedPids(pidFile).plugin, ...recordedPids(pidFile).grandchild];
    await waitFor(() => nothingLeft(leftovers(all(), marker, dirs)), 5000, "the trees to go").catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(leftovers(all(), marker, dirs))}`);
      },
    );
    const states = readFileSync(events, "utf8").trim().split("\n");
    assert.deepEqual(
      states.filter((s) => / (crashed|restarting)$/.test(s)),
      [],
      `no crash, no restart: ${states.join(", ")}`,
    );
    assert.ok(states.includes("tree-0 stopped") && states.includes("tree-1 stopped"), "stopped");
    assert.deepEqual(recordedPids(pidFile).plugin, before.plugin, "no new plugin process");
  });
});
