// A plugin's whole process tree goes with it: a grandchild that ignores SIGTERM and holds the
// plugin's stdout and stderr is killed when the plugin exits by itself, and neither its socket
// directory nor the host's pipe fds stay (test/fixtures/hostile/tree-plugin.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { PingPong } from "../../../test/fixtures/gen/grpctest_pb.js";
import {
  leftovers,
  nothingLeft,
  openFds,
  recordedPids,
  running,
} from "../../../test/fixtures/hostile/leftovers.ts";
import { repoRoot, testHandshake, waitFor } from "../../../test/support/fixture.ts";
import { sweepStaleSocketDirs } from "../../platform/socket-dirs.ts";
import { guardTree } from "../../platform/tree-guard.ts";
import { startPlugin } from "./start.ts";

const treePlugin = join(repoRoot, "test/fixtures/hostile/tree-plugin.ts");

async function startTree(mode: string, marker: string, pidFile: string) {
  return startPlugin({
    cmd: process.execPath,
    args: [treePlugin, mode],
    handshake: testHandshake,
    plugins: { pingpong: PingPong },
    env: { HOSTILE_MARKER: marker, HOSTILE_PIDS: pidFile },
    startTimeoutMs: 20_000,
  });
}

describe("process trees", { timeout: 60_000 }, () => {
  it("a plugin that exits by itself takes its SIGTERM-ignoring grandchild, its socket directory and the host's fds with it", async () => {
    const temp = mkdtempSync(join(tmpdir(), "pw-tree-"));
    try {
      const marker = `plugwire-hostile-gc-${process.pid}-self-exit`;
      const pidFile = join(temp, "pids");
      guardTree(0, undefined)(); // the host's tree guard runs (its pipe is one fd, for good)
      const fdsBefore = openFds();
      const plugin = await startTree("exit-on-ping", marker, pidFile);
      const dir = dirname(plugin.address);
      const { grandchild } = recordedPids(pidFile);
      assert.equal(grandchild.length, 1);
      assert.ok(running(grandchild[0]!), "the grandchild runs");
      await plugin.dispense("pingpong").ping({});
      const exit = await plugin.exited;
      assert.equal(exit.code, 0);
      await plugin.kill(); // returns at once: the plugin is gone
      const pids = [plugin.pid, ...grandchild];
      await waitFor(() => nothingLeft(leftovers(pids, marker, [dir])), 5000, "the tree").catch(
        (error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(leftovers(pids, marker, [dir]))}`);
        },
      );
      await waitFor(() => openFds() <= fdsBefore, 5000, "the host's fds to be closed");
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it("kill() takes the SIGTERM-ignoring grandchild and the socket directory", async () => {
    const temp = mkdtempSync(join(tmpdir(), "pw-tree-"));
    try {
      const marker = `plugwire-hostile-gc-${process.pid}-kill`;
      const pidFile = join(temp, "pids");
      const plugin = await startTree("serve", marker, pidFile);
      const dir = dirname(plugin.address);
      const { grandchild } = recordedPids(pidFile);
      await plugin.kill();
      const pids = [plugin.pid, ...grandchild];
      await waitFor(() => nothingLeft(leftovers(pids, marker, [dir])), 5000, "the tree");
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it("stale socket directories of dead hosts are swept, a live host's never", async () => {
    const base = mkdtempSync(join(tmpdir(), "pw-sweep-"));
    try {
      const gone = spawnSync("/bin/true").pid; // a pid that no longer runs
      const stale = join(base, `plugwire-${gone}-AbC123`);
      const live = join(base, `plugwire-${process.ppid}-XyZ789`);
      const mine = join(base, `plugwire-${process.pid}-QwE456`);
      for (const dir of [stale, live, mine]) mkdirSync(dir);
      writeFileSync(join(stale, "plugin.sock"), "");
      assert.deepEqual(sweepStaleSocketDirs(base), [stale]);
      assert.deepEqual(
        [existsSync(stale), existsSync(live), existsSync(mine)],
        [false, true, true],
      );
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
