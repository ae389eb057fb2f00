import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PluginRegistry } from "../../src/manager/index.ts";
import {
  alive,
  fixtureExecutable,
  managerHandshake,
  node,
  providerFixture,
  tempDir,
  writeScript,
} from "./support.ts";

describe("discovery", () => {
  it("skips junk quickly with the right reason for each, and registers the plugins", async () => {
    using tmp = tempDir();
    const { dir } = tmp;
    writeFileSync(join(dir, "README.txt"), "These are plugins.\n");
    writeFileSync(join(dir, "data.json"), '{"not": "a plugin"}\n');
    writeScript(join(dir, "garbage"), "echo 'Usage: frobnicate [--verbose] FILE'");
    writeScript(join(dir, "hangs"), "exec sleep 600");
    fixtureExecutable(dir, "wrong-cookie", "wrong-cookie");
    fixtureExecutable(dir, "speaks-v7", "version", ["7"]);
    fixtureExecutable(dir, "crashes", "crash-on-start");
    writeScript(join(dir, "no-exec-bit"), `exec '${node}' '${providerFixture}' providers`, 0o644);
    mkdirSync(join(dir, "empty-folder"));
    fixtureExecutable(dir, "alpha", "providers");
    // A plugin package: a folder with a manifest naming its entry.
    mkdirSync(join(dir, "beta-package"));
    writeFileSync(
      join(dir, "beta-package/plugwire.toml"),
      [
        'id = "beta"',
        'version = "0.9.0"',
        `entry = "${providerFixture}"`,
        'args = ["providers"]',
        "[handshake]",
        `magic_cookie_key = "${managerHandshake.magicCookieKey}"`,
        `magic_cookie_value = "${managerHandshake.magicCookieValue}"`,
      ].join("\n"),
    );

    await using registry = new PluginRegistry();
    const startTimeoutMs = 6000;
    const result = await registry.discover({
      paths: [dir],
      handshake: managerHandshake,
      startTimeoutMs,
    });
    const reasons = Object.fromEntries(
      result.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]),
    );
    assert.deepEqual(reasons, {
      "README.txt": "not-a-plugin",
      "data.json": "not-a-plugin",
      garbage: "not-a-plugin",
      hangs: "timed-out",
      "wrong-cookie": "wrong-cookie",
      "speaks-v7": "version-mismatch",
      crashes: "crashed",
      "no-exec-bit": "not-executable",
      "empty-folder": "not-a-plugin",
    });
    for (const skipped of result.skipped) {
      assert.ok(!skipped.message.includes("\n"), `one line: ${skipped.message}`);
      assert.ok(skipped.message.startsWith(skipped.reason.replace(/-/g, " ")), skipped.message);
    }
    const garbage = result.skipped.find((s) => s.path.endsWith("garbage"));
    assert.match(garbage!.message, /frobnicate/);
    // Parallel and bounded: the hanging candidate costs one start timeout, not one each.
    assert.ok(result.elapsedMs < startTimeoutMs + 3000, `took ${result.elapsedMs} ms`);

    assert.deepEqual(
      registry
        .list()
        .map((p) => p.id)
        .sort(),
      ["alpha", "beta"],
    );
    const beta = registry.get("beta")!;
    assert.equal(beta.state.t, "running");
    assert.equal(beta.manifest.version, "1.2.3"); // the running plugin's word wins over the file
    assert.deepEqual(await registry.callProvider("beta/add", { a: 1, b: 2 }), { sum: 3 });
    const pids = registry.list().map((p) => p.connection!.info.pid!);
    await registry.close();
    for (const pid of pids) assert.ok(!alive(pid));
  });

  it("stops probed plugins with keepRunning false; they start on first use", async () => {
    using tmp = tempDir();
    fixtureExecutable(tmp.dir, "lazy", "providers");
    await using registry = new PluginRegistry();
    const result = await registry.discover({
      paths: [`${tmp.dir}/*`],
      handshake: managerHandshake,
      keepRunning: false,
    });
    const lazy = registry.get("lazy");
    assert.ok(lazy !== undefined, result.skipped.map((s) => s.message).join("; "));
    assert.equal(lazy.state.t, "stopped");
    assert.equal(lazy.manifest.providers.length, 5); // learnt during the probe, kept
    assert.deepEqual(await registry.callProvider("echo", { hi: true }), { hi: true });
    assert.equal(lazy.state.t, "running");
  });
});
