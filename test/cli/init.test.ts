import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/fixture.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const run = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", timeout: 60_000 });

// The scaffold's own `npm install && npm test` runs in test/package/consumer.test.ts, against the
// packed package; these check what `init` writes and refuses.
describe("plugwire init", () => {
  it("writes a project with its name, a fresh cookie and a .gitignore; depends on the enclosing project's plugwire", () => {
    const work = mkdtempSync(join(tmpdir(), "plugwire-init-"));
    try {
      writeFileSync(
        join(work, "package.json"),
        JSON.stringify({ dependencies: { plugwire: "file:vendor/plugwire.tgz" } }),
      );
      const first = run(work, "init", "My Plugin");
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /npm install\n\s+npm test/);
      const dir = join(work, "My Plugin");
      assert.deepEqual(readdirSync(dir).sort(), [
        ".gitignore",
        "README.md",
        "buf.gen.yaml",
        "package.json",
        "proto",
        "src",
        "test",
        "tsconfig.json",
      ]);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      assert.equal(pkg.name, "my-plugin");
      assert.equal(pkg.dependencies.plugwire, `file:${join(work, "vendor/plugwire.tgz")}`);
      const handshake = readFileSync(join(dir, "src/handshake.ts"), "utf8");
      assert.match(handshake, /magicCookieKey: "MY_PLUGIN_PLUGIN"/);
      assert.match(handshake, /magicCookieValue: "[0-9a-f]{32}"/);
      assert.doesNotMatch(readFileSync(join(dir, "README.md"), "utf8"), /\{\{/);

      const second = run(work, "init", "second");
      const other = readFileSync(join(work, "second/src/handshake.ts"), "utf8");
      assert.equal(second.status, 0, second.stderr);
      assert.notEqual(/"([0-9a-f]{32})"/.exec(other)?.[1], /"([0-9a-f]{32})"/.exec(handshake)?.[1]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("refuses a folder that is not empty, with usage status 2, and writes nothing", () => {
    const work = mkdtempSync(join(tmpdir(), "plugwire-init-"));
    try {
      writeFileSync(join(work, "notes.txt"), "mine\n");
      const result = run(work, "init", ".");
      assert.equal(result.status, 2);
      assert.match(result.stderr, /exists and is not empty/);
      assert.deepEqual(readdirSync(work), ["notes.txt"]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("writes ^<version> outside any project that depends on plugwire; --plugwire overrides it", () => {
    const work = mkdtempSync(join(tmpdir(), "plugwire-init-"));
    try {
      const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
      assert.equal(run(work, "init", "plain").status, 0);
      const plain = JSON.parse(readFileSync(join(work, "plain/package.json"), "utf8"));
      assert.equal(plain.dependencies.plugwire, `^${version}`);
      const result = run(work, "init", "demo", "--plugwire", "^9.9.9");
      assert.equal(result.status, 0, result.stderr);
      const pkg = JSON.parse(readFileSync(join(work, "demo/package.json"), "utf8"));
      assert.equal(pkg.dependencies.plugwire, "^9.9.9");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
