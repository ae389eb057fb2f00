// `plugwire list` on a folder holding a hostile plugin that announces an over-long unix socket
// path: before issue 14's fix the CLI crashed (connect EINVAL on a TLS socket nobody listened
// to); now the plugin is reported as failing, the process is gone and no socket directory stays.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir, writeScript } from "../manager/support.ts";
import { processAlive, repoRoot } from "../support/fixture.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const announce = join(repoRoot, "test/fixtures/hostile/announce.ts");

describe("plugwire list, hostile plugin", () => {
  it("an over-long announced socket path is a failing plugin, not a crash", () => {
    using tmp = tempDir("pw-list-");
    const plugins = join(tmp.dir, "plugins");
    const tmpRoot = join(tmp.dir, "tmp");
    mkdirSync(plugins);
    mkdirSync(tmpRoot);
    const pidFile = join(tmp.dir, "pid");
    writeScript(
      join(plugins, "long-path"),
      `echo $$ > '${pidFile}'\nexec '${process.execPath}' '${announce}' unix '{dir}/${"p".repeat(150)}' grpc`,
    );
    const result = spawnSync(process.execPath, [cli, "list", "--cookie", "A=B", plugins], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, TMPDIR: tmpRoot },
    });
    const output = result.stdout + result.stderr;
    assert.doesNotMatch(output, /EINVAL|Node\.js v|at .*\.ts:\d+/, "no crash");
    assert.match(output, /long-path.*unix socket path of 1\d\d bytes/);
    assert.equal(result.status, 1, output);
    assert.equal(processAlive(Number(readFileSync(pidFile, "utf8"))), false, "the plugin is gone");
    assert.deepEqual(readdirSync(tmpRoot), [], "no socket directory is left");
  });
});
