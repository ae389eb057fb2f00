// git sources by semver range over tags (and by ref), against the real `git daemon` on loopback.
import assert from "node:assert/strict";
import { cpSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { PluginError } from "../../src/index.ts";
import type { LockEntry } from "../../src/lock/lock-file.ts";
import {
  availableVersions,
  fetchSource,
  parseSource,
  resolveSource,
} from "../../src/sources/resolve.ts";
import { git, startGitDaemon } from "../manager/git-daemon.ts";
import { waitFor } from "../support/wait.ts";
import { driverOf, leftovers, project } from "./support.ts";

const fixture = new URL("../fixtures/published/users-go", import.meta.url).pathname;

/** A repository of the fixture Go plugin with release tags, one annotated, and a non-semver one. */
function repository(base: string): { dir: string; commits: string[] } {
  const dir = join(base, "users.git");
  cpSync(fixture, dir, { recursive: true });
  git(dir, "init", "--quiet", "--initial-branch=main");
  const commits: string[] = [];
  const commit = (message: string) => {
    writeFileSync(join(dir, "RELEASE"), `${message}\n`);
    git(dir, "add", ".");
    git(dir, "commit", "--quiet", "-m", message);
    commits.push(git(dir, "rev-parse", "HEAD"));
  };
  commit("1.0.0");
  git(dir, "tag", "v1.0.0");
  commit("1.1.0");
  git(dir, "tag", "-a", "-m", "release 1.1.0", "v1.1.0");
  commit("2.0.0");
  git(dir, "tag", "v2.0.0");
  git(dir, "tag", "latest");
  return { dir, commits };
}

describe("git sources by tag range", { timeout: 300_000 }, () => {
  it("resolves a range to the highest tag's commit, builds it, and lists the versions", async () => {
    using p = project();
    const { commits } = repository(p.dir);
    using daemon = await startGitDaemon(p.dir);
    const url = daemon.url("users.git");
    const spec = parseSource(`${url}@^1`);
    assert.deepEqual(spec, { kind: "git", raw: `${url}@^1`, url, constraint: "^1" });
    const resolved = await resolveSource(spec, { cacheDir: p.cacheDir });
    assert.equal(resolved.version, "1.1.0");
    assert.equal(resolved.label, "v1.1.0");
    assert.equal(resolved.commit, commits[1]); // the annotated tag, peeled to its commit
    assert.equal(resolved.integrity, `git:${commits[1]}`);
    const fetched = await fetchSource(resolved, { cacheDir: p.cacheDir });
    assert.equal(fetched.integrity, `git:${commits[1]}`);
    assert.equal(fetched.kind, "folder");
    // go build stamps the checkout's commit (a pseudo-version: the shallow fetch has no tags).
    assert.match(await driverOf(fetched), /^users-go 0\.0\.0-\d{14}-[0-9a-f]{12}$/);
    assert.deepEqual(leftovers(p.cacheDir), []);
    const versions = await availableVersions(parseSource(url), { cacheDir: p.cacheDir });
    assert.deepEqual(versions, ["2.0.0", "1.1.0", "1.0.0"]);
  });

  it("refuses a tag that moved to another commit since the lock", async () => {
    using p = project();
    const { dir, commits } = repository(p.dir);
    using daemon = await startGitDaemon(p.dir);
    const spec = parseSource(daemon.url("users.git"));
    const locked: LockEntry = {
      name: "users",
      source: spec.raw,
      constraint: "^1",
      version: "1.1.0",
      commit: commits[1],
      integrity: `git:${commits[1]}`,
      sha256: "0".repeat(64),
    };
    const options = { cacheDir: p.cacheDir, constraint: "^1", locked, plugin: "users" };
    assert.equal((await resolveSource(spec, options)).commit, commits[1]);
    git(dir, "tag", "-f", "-a", "-m", "moved", "v1.1.0", commits[2]!);
    await assert.rejects(
      resolveSource(spec, options),
      (error: PluginError) =>
        error.code === "LOCK_MISMATCH" &&
        error.plugin === "users" &&
        /tag moved/.test(error.message),
    );
    git(dir, "tag", "-d", "v1.1.0");
    await assert.rejects(
      resolveSource(spec, options),
      (error: PluginError) => error.code === "LOCK_MISMATCH" && /deleted/.test(error.message),
    );
  });

  it("follows a ref, and keeps to the locked commit when the branch moved on", async () => {
    using p = project();
    const { commits } = repository(p.dir);
    using daemon = await startGitDaemon(p.dir);
    const spec = parseSource(`${daemon.url("users.git")}#main`);
    assert.equal(spec.kind === "git" && spec.ref, "main");
    const now = await resolveSource(spec, { cacheDir: p.cacheDir });
    assert.equal(now.commit, commits[2]);
    const locked: LockEntry = {
      name: "users",
      source: spec.raw,
      commit: commits[0],
      sha256: "0".repeat(64),
    };
    const pinned = await resolveSource(spec, { cacheDir: p.cacheDir, locked });
    assert.equal(pinned.commit, commits[0]);
    const fetched = await fetchSource(pinned, { cacheDir: p.cacheDir });
    assert.equal(fetched.integrity, `git:${commits[0]}`);
  });

  it("reports an unreachable remote as SOURCE_UNAVAILABLE and no match as VERSION_UNSATISFIED", async () => {
    using p = project();
    repository(p.dir);
    const daemon = await startGitDaemon(p.dir);
    const url = daemon.url("users.git");
    await assert.rejects(
      resolveSource(parseSource(`${url}@^3`), { cacheDir: p.cacheDir }),
      (error: PluginError) =>
        error.code === "VERSION_UNSATISFIED" && /2\.0\.0, 1\.1\.0, 1\.0\.0/.test(error.message),
    );
    daemon[Symbol.dispose]();
    const port = Number(new URL(url).port);
    await waitFor(() => refused(port), 10_000, "the stopped git daemon's port to refuse");
    await assert.rejects(
      resolveSource(parseSource(`${url}@^1`), { cacheDir: p.cacheDir, plugin: "users" }),
      (error: PluginError) => error.code === "SOURCE_UNAVAILABLE" && error.plugin === "users",
    );
  });
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}
