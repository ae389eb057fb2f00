// plugwire install / outdated / update through the real CLI, on git repositories that publish a
// prebuilt plugin package by tag: the lock reproduced, moved within the constraints one service
// or all at once, and `install <source> --dir` recorded beside the services.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(repoRoot, "bin/plugwire.js");
let dir: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "plugwire",
      GIT_AUTHOR_EMAIL: "tests@plugwire.invalid",
      GIT_COMMITTER_NAME: "plugwire",
      GIT_COMMITTER_EMAIL: "tests@plugwire.invalid",
    },
  }).trim();
}

/** A release repository: `plugwire.json` and an executable, one commit per tag. */
function releaseRepo(name: string): string {
  const repo = join(dir, `${name}.git`);
  mkdirSync(repo);
  git(repo, "init", "--quiet", "--initial-branch=main");
  writeFileSync(join(repo, "plugwire.json"), JSON.stringify({ id: name, entry: "./plugin" }));
  return repo;
}

function tag(repo: string, version: string): void {
  writeFileSync(join(repo, "plugin"), `#!/bin/sh\necho ${version}\n`);
  chmodSync(join(repo, "plugin"), 0o755);
  git(repo, "add", "-A");
  git(repo, "commit", "--quiet", "-m", version);
  git(repo, "tag", `v${version}`);
}

function plugwire(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args, "-c", join(dir, "plugwire.toml")], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lock = () => readFileSync(join(dir, "plugwire.lock"), "utf8");
const lockedVersion = (name: string) =>
  new RegExp(`\\[plugins\\.${name}\\]\\n[^[]*?version = "([^"]+)"`).exec(lock())?.[1];

describe("plugwire install, outdated and update", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "pw-cli-lock-"));
    const alpha = releaseRepo("alpha");
    const beta = releaseRepo("beta");
    tag(alpha, "1.0.0");
    tag(beta, "1.0.0");
    writeFileSync(
      join(dir, "plugwire.toml"),
      `[manager]\nplugin_dirs = ["plugins"]\n\n[services.alpha]\ndriver = "file://${alpha}"\nversion = "^1"\n\n[services.beta]\ndriver = "file://${beta}"\nversion = "^1"\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("installs, then reproduces the lock while newer versions appear; outdated shows them", () => {
    const first = plugwire("install");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /✔ alpha 1\.0\.0 \(sha256 [0-9a-f]{12}\): placed; not started/);
    assert.match(first.stdout, /\+ alpha 1\.0\.0 \(file:\/\/.*alpha\.git\)\n {2}\+ beta 1\.0\.0/);
    for (const name of ["alpha", "beta"]) {
      tag(join(dir, `${name}.git`), "1.1.0");
      tag(join(dir, `${name}.git`), "2.0.0");
    }
    const again = plugwire("install");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /plugwire\.lock is up to date/);
    assert.equal(lockedVersion("alpha"), "1.0.0");

    const table = plugwire("outdated");
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^NAME +LOCKED +WANTED +LATEST +CONSTRAINT +SOURCE\nalpha +1\.0\.0 +1\.1\.0 +2\.0\.0 +\^1 +file:\/\//,
    );
    const json = JSON.parse(plugwire("outdated", "beta", "--json").stdout);
    assert.deepEqual(
      json.map((r: Record<string, unknown>) => [r.name, r.locked, r.wanted, r.latest]),
      [["beta", "1.0.0", "1.1.0", "2.0.0"]],
    );
  });

  it("update NAME moves only that entry within its constraint; update moves the rest", () => {
    const one = plugwire("update", "alpha");
    assert.equal(one.code, 0, one.stderr);
    assert.match(
      one.stdout,
      /~ alpha version 1\.0\.0 → 1\.1\.0, commit [0-9a-f]{12} → [0-9a-f]{12}/,
    );
    assert.deepEqual([lockedVersion("alpha"), lockedVersion("beta")], ["1.1.0", "1.0.0"]);
    assert.equal(
      execFileSync(join(dir, ".cache/plugwire/installed/alpha/plugin"), { encoding: "utf8" }),
      "1.1.0\n",
    );
    const all = plugwire("update");
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual([lockedVersion("alpha"), lockedVersion("beta")], ["1.1.0", "1.1.0"]);
    assert.doesNotMatch(all.stdout, /~ alpha/);
  });

  it("install <source> --dir records its entry beside the services, and install keeps it", () => {
    const gamma = releaseRepo("gamma");
    tag(gamma, "2.0.0");
    const single = plugwire("install", `file://${gamma}@^2`, "--dir", "plugins");
    assert.equal(single.code, 0, single.stderr);
    assert.match(single.stdout, /installed .*plugins\/gamma \(commit [0-9a-f]{12}\): not checked/);
    assert.match(single.stdout, /plugwire\.lock: \+ gamma 2\.0\.0 \(file:\/\/.*gamma\.git@\^2\)/);
    assert.match(
      lock(),
      /\[plugins\.gamma\]\nsource = "file:\/\/.*gamma\.git@\^2"\nconstraint = "\^2"\nversion = "2\.0\.0"\ncommit = "[0-9a-f]{40}"/,
    );
    assert.match(lock(), /artifact = "plugins\/gamma\/plugin"/);
    const all = plugwire("install");
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      /plugwire\.lock is up to date/,
      "an entry in a plugin directory is kept",
    );
  });
});
