// discovery = "manifest": a bare executable found by scanning a folder is never run; plugin
// packages and paths named one by one are. The default ("all") runs every executable it finds.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listCandidates } from "../../src/discovery/candidates.ts";
import { discoverPlugins } from "../../src/manager/index.ts";
import {
  fixtureExecutable,
  managerHandshake,
  providerFixture,
  tempDir,
  writeScript,
} from "../manager/support.ts";

/** A folder with an executable that leaves a marker file when run, and a plugin package. */
function pluginFolder(dir: string) {
  const marker = join(dir, "..", `${dir.split("/").pop()}-ran`);
  writeScript(join(dir, "writes-marker"), `echo ran > '${marker}'\nexit 1`);
  mkdirSync(join(dir, "declared"));
  writeFileSync(
    join(dir, "declared/plugwire.json"),
    JSON.stringify({
      id: "declared",
      version: "1.0.0",
      entry: providerFixture,
      args: ["providers"],
      handshake: managerHandshake,
    }),
  );
  return { marker };
}

describe("discovery that runs only declared plugins", () => {
  it('in "manifest" mode the bare executable never runs and is reported as not-trusted', async () => {
    using tmp = tempDir();
    const plugins = join(tmp.dir, "plugins");
    mkdirSync(plugins);
    const { marker } = pluginFolder(plugins);
    const result = await discoverPlugins({
      paths: [plugins],
      handshake: managerHandshake,
      run: "manifest",
      startTimeoutMs: 10_000,
    });
    try {
      assert.equal(existsSync(marker), false, "the executable was run");
      assert.deepEqual(
        result.found.map((f) => f.plugin.id),
        ["declared"],
      );
      assert.equal(result.skipped.length, 1);
      const [skipped] = result.skipped;
      assert.equal(skipped?.reason, "not-trusted");
      assert.match(skipped?.message ?? "", /^not trusted: .*no plugwire\.json.*declared plugins/);
      assert.equal(skipped?.error, undefined);
    } finally {
      await Promise.all(result.found.map((f) => f.plugin.close()));
    }
  });

  it("a glob match is not trusted either; a path named on its own is", async () => {
    using tmp = tempDir();
    const plugins = join(tmp.dir, "plugins");
    mkdirSync(plugins);
    const { marker } = pluginFolder(plugins);
    const named = fixtureExecutable(plugins, "named", "providers");
    const globbed = await listCandidates([join(plugins, "writes-*")], "manifest");
    assert.deepEqual(
      globbed.map((c) => c.kind === "skip" && c.reason),
      ["not-trusted"],
    );
    const result = await discoverPlugins({
      paths: [named],
      handshake: managerHandshake,
      run: "manifest",
      startTimeoutMs: 10_000,
    });
    try {
      assert.deepEqual(
        result.found.map((f) => f.plugin.id),
        ["named"],
      );
      assert.equal(existsSync(marker), false);
    } finally {
      await Promise.all(result.found.map((f) => f.plugin.close()));
    }
  });

  it("the default mode runs every executable it finds (the marker appears)", async () => {
    using tmp = tempDir();
    const plugins = join(tmp.dir, "plugins");
    mkdirSync(plugins);
    const { marker } = pluginFolder(plugins);
    const result = await discoverPlugins({
      paths: [plugins],
      handshake: managerHandshake,
      startTimeoutMs: 10_000,
    });
    try {
      assert.equal(existsSync(marker), true, "the default mode runs the executable");
      assert.deepEqual(
        result.skipped.map((s) => s.reason),
        ["crashed"],
      );
    } finally {
      await Promise.all(result.found.map((f) => f.plugin.close()));
    }
  });

  it("rejects an unknown mode", async () => {
    await assert.rejects(
      listCandidates(["."], "trusted" as "all"),
      (error: unknown) => error instanceof TypeError && /run/.test(error.message),
    );
  });
});
