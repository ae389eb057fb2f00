import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fixtureExecutable, repoRoot, tempDir, writeScript } from "./support.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const cookie = "PLUGWIRE_TEST_PLUGIN=manager";
const run = (...args: string[]) => {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe("plugwire CLI", () => {
  it("lists, doctors, inspects and calls plugins, with --json and exit codes", () => {
    using tmp = tempDir();
    const good = fixtureExecutable(tmp.dir, "good", "providers");
    fixtureExecutable(tmp.dir, "wrong-cookie", "wrong-cookie");
    writeFileSync(join(tmp.dir, "notes.txt"), "hello\n");
    writeScript(join(tmp.dir, "garbage"), "echo garbage");

    const list = run("list", tmp.dir, "--cookie", cookie);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+STATE\s+VERSION\s+SOURCE\s+PROVIDES/);
    assert.match(list.stdout, /good\s+running\s+1\.2\.3\s+.*provider:echo/);

    const listJson = JSON.parse(run("list", tmp.dir, "--cookie", cookie, "--json").stdout);
    assert.equal(listJson.length, 1);
    assert.equal(listJson[0].id, "good");

    const doctor = run("doctor", tmp.dir, "--cookie", cookie, "--json");
    assert.equal(doctor.code, 1);
    const reasons = Object.fromEntries(
      JSON.parse(doctor.stdout).candidates.map((c: { path: string; reason: string }) => [
        c.path.split("/").pop(),
        c.reason,
      ]),
    );
    assert.deepEqual(reasons, {
      garbage: "not-a-plugin",
      good: "ok",
      "notes.txt": "not-a-plugin",
      "wrong-cookie": "wrong-cookie",
    });

    const inspect = run("inspect", good, "--cookie", cookie, "--json");
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout);
    assert.equal(info.protocolVersion, 1);
    assert.equal(info.tls, true);
    assert.equal(info.health, "SERVING");
    assert.ok(info.services.includes("grpctest.PingPong"));

    const add = run("call", good, "add", '{"a":40,"b":2}', "--cookie", cookie);
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(JSON.parse(add.stdout), { sum: 42 });
    const ping = run("call", good, "grpctest.PingPong/Ping", "{}", "--cookie", cookie);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(JSON.parse(ping.stdout).msg, /^pong from \d+$/);

    const missing = run("call", good, "nope", "{}", "--cookie", cookie);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /PROVIDER_UNKNOWN/);
    assert.equal(run("call", good).code, 2); // usage: missing argument
    assert.equal(run("list", tmp.dir).code, 2); // usage: no handshake
  });

  it("installs a plugin from a source folder into a plugin directory", () => {
    using tmp = tempDir();
    const source = join(repoRoot, "examples/manager/providers/plugins/text");
    const result = spawnSync(
      process.execPath,
      [
        cli,
        "install",
        source,
        "--dir",
        join(tmp.dir, "plugins"),
        "--cache-dir",
        join(tmp.dir, "cache"),
        "--cookie",
        "PLUGWIRE_EXAMPLE_PROVIDER=provider_plugin",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /installed .*example\.text: starts and answers/);
    assert.match(result.stderr, /bundling example\.text \(esbuild\)/);
  });
});
