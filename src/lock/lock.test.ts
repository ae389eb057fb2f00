import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { startPlugin } from "../host/start/start.ts";
import { sha256File } from "../trust/sha256sums.ts";
import { secureFromLock, verifyLaunch } from "./launch-check.ts";
import type { LockEntry, Lockfile } from "./lock-file.ts";
import {
  checkLockEntry,
  diffLocks,
  formatLock,
  formatLockChanges,
  lockedEntry,
  parseLock,
  readLock,
  updateLock,
  writeLock,
} from "./lock-file.ts";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "plugwire-lock-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (c: string) => c.repeat(64);
const reports: LockEntry = {
  name: "reports",
  source: "https://github.com/you/reports-plugin.git",
  constraint: "^2.1",
  version: "2.1.3",
  commit: "0123456789abcdef0123456789abcdef01234567",
  sha256: sha("a"),
  artifact: "plugins/reports/plugin",
  signedBy: "SHA256:+ZLbUY9IJLHU7n5x04lAIMkFkZxKpMu8IU6kSBVC+ro",
};
const greeter: LockEntry = {
  name: "@acme/greeter",
  source: "npm:@acme/greeter@^1",
  constraint: "^1",
  version: "1.0.4",
  integrity: "sha512-AbCd==",
  sha256: sha("b"),
};
const lock = (...entries: LockEntry[]): Lockfile => ({
  plugins: Object.fromEntries(entries.map((e) => [e.name, e])),
});
const isCode = (code: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof PluginError, String(error));
  assert.equal(error.code, code, error.message);
  if (pattern !== undefined) assert.match(error.message, pattern);
  return true;
};

describe("plugwire.lock", () => {
  it("is written sorted, fields in a fixed order, and reads back to the same entries", () => {
    const text = formatLock(lock(reports, greeter));
    assert.equal(
      text,
      [
        "# plugwire.lock: what plugwire install resolved, fetched and verified. Commit it; do not edit it.",
        "lock_version = 1",
        "",
        '[plugins."@acme/greeter"]',
        'source = "npm:@acme/greeter@^1"',
        'constraint = "^1"',
        'version = "1.0.4"',
        'integrity = "sha512-AbCd=="',
        `sha256 = "${sha("b")}"`,
        "",
        "[plugins.reports]",
        'source = "https://github.com/you/reports-plugin.git"',
        'constraint = "^2.1"',
        'version = "2.1.3"',
        'commit = "0123456789abcdef0123456789abcdef01234567"',
        `sha256 = "${sha("a")}"`,
        'artifact = "plugins/reports/plugin"',
        'signed_by = "SHA256:+ZLbUY9IJLHU7n5x04lAIMkFkZxKpMu8IU6kSBVC+ro"',
        "",
      ].join("\n"),
    );
    assert.deepEqual(parseLock(text, "plugwire.lock"), lock(greeter, reports));
    assert.equal(formatLock(lock(greeter, reports)), text, "insertion order does not matter");
  });

  it("writes atomically (no temporary file left) and a missing file reads as empty", async () => {
    const file = join(dir, "atomic", "plugwire.lock");
    await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "atomic")));
    assert.deepEqual(await readLock(file), { plugins: {} });
    await writeLock(file, lock(reports));
    await writeLock(file, lock(reports, greeter));
    assert.deepEqual(readdirSync(join(dir, "atomic")), ["plugwire.lock"]);
    assert.deepEqual(await readLock(file), lock(reports, greeter));
  });

  it("a lock edited by hand into something invalid is CONFIG_INVALID naming the file and entry", () => {
    const text = formatLock(lock(reports)).replace(sha("a"), "abc");
    assert.throws(
      () => parseLock(text, "/p/plugwire.lock"),
      isCode(
        "CONFIG_INVALID",
        /\/p\/plugwire\.lock: plugins\.reports\.sha256 must be 64 lowercase hex/,
      ),
    );
    assert.throws(
      () => parseLock("lock_version = 7\n", "l"),
      isCode("CONFIG_INVALID", /lock_version is 7/),
    );
    assert.throws(
      () => parseLock(`${formatLock(lock(reports))}colour = "red"\n`, "l"),
      isCode("CONFIG_INVALID", /plugins\.reports: unknown key `colour`/),
    );
  });

  it("diffs two locks per plugin and field, and prints one line per change", () => {
    const moved: LockEntry = {
      ...reports,
      version: "2.2.0",
      commit: "f".repeat(40),
      sha256: sha("c"),
    };
    const before = lock(reports, greeter);
    const next = lock(moved, { ...greeter, name: "kv", source: "./kv" });
    const changes = diffLocks(before, next);
    assert.deepEqual(
      changes.map((c) => [c.name, c.kind]),
      [
        ["@acme/greeter", "removed"],
        ["kv", "added"],
        ["reports", "changed"],
      ],
    );
    assert.deepEqual(
      changes[2]!.fields.map((f) => f.field),
      ["version", "commit", "sha256"],
    );
    assert.deepEqual(formatLockChanges(changes, next), [
      "- @acme/greeter",
      "+ kv 1.0.4 (./kv)",
      `~ reports version 2.1.3 → 2.2.0, commit 0123456789ab → ffffffffffff, sha256 ${"a".repeat(12)} → ${"c".repeat(12)}`,
    ]);
    assert.deepEqual(diffLocks(before, lock(greeter, reports)), []);
  });

  it("frozen: a change is LOCK_FROZEN and the file is left as it was; unfrozen it is written", async () => {
    const file = join(dir, "frozen.lock");
    await writeLock(file, lock(reports));
    const before = readFileSync(file, "utf8");
    const next = lock({ ...reports, version: "2.2.0" });
    await assert.rejects(
      updateLock(file, lock(reports), next, { frozen: true }),
      isCode(
        "LOCK_FROZEN",
        /plugin reports: .*frozen\.lock is frozen but would change:\n {2}~ reports version 2\.1\.3 → 2\.2\.0/,
      ),
    );
    assert.equal(readFileSync(file, "utf8"), before);
    assert.deepEqual(await updateLock(file, lock(reports), lock(reports), { frozen: true }), []);
    const changes = await updateLock(file, lock(reports), next);
    assert.equal(changes.length, 1);
    assert.deepEqual(await readLock(file), next);
  });

  it("refuses a source answering another version (downgrade), commit (moved tag) or hash (substitution): LOCK_MISMATCH", () => {
    assert.throws(
      () => checkLockEntry(reports, { version: "2.1.0" }, "plugwire.lock"),
      isCode(
        "LOCK_MISMATCH",
        /plugin reports: .* answered an older version \(a downgrade\) than plugwire\.lock records: version 2\.1\.0, locked 2\.1\.3/,
      ),
    );
    assert.throws(
      () => checkLockEntry(reports, { version: "2.1.3", commit: "e".repeat(40) }, "l"),
      isCode("LOCK_MISMATCH", /another commit \(the ref or tag moved\)/),
    );
    assert.throws(
      () => checkLockEntry(greeter, { integrity: "sha512-Other==" }, "l"),
      isCode("LOCK_MISMATCH", /different bytes \(integrity\)/),
    );
    assert.throws(
      () => checkLockEntry(reports, { sha256: sha("d") }, "l"),
      isCode("LOCK_MISMATCH", /different bytes \(sha256\)/),
    );
    checkLockEntry(reports, { version: "2.1.3", commit: reports.commit, sha256: sha("a") }, "l");
  });

  it("an entry applies only while the configured source and constraint are the ones it was written for", () => {
    const l = lock(reports);
    assert.equal(lockedEntry(l, "reports", reports.source, "^2.1"), reports);
    assert.equal(lockedEntry(l, "reports", reports.source, "^3"), undefined);
    assert.equal(lockedEntry(l, "reports", "./elsewhere", "^2.1"), undefined);
  });
});

describe("verified before every launch", () => {
  it("checks the artifact against the lock, and startPlugin refuses a file changed after the check (CHECKSUM_MISMATCH)", async () => {
    const artifact = join(dir, "plugin");
    writeFileSync(artifact, "#!/bin/sh\nexit 0\n");
    chmodSync(artifact, 0o755);
    const entry: LockEntry = { name: "kv", source: "./kv", sha256: await sha256File(artifact) };
    const launch = await verifyLaunch(entry, artifact, "/cfg/plugwire.lock");
    assert.deepEqual(launch.secure, { checksum: entry.sha256, hash: "sha256" });

    writeFileSync(artifact, "#!/bin/sh\necho swapped\n");
    await assert.rejects(
      verifyLaunch(entry, artifact, "/cfg/plugwire.lock"),
      isCode(
        "CHECKSUM_MISMATCH",
        /plugin kv: .*plugin has sha256 [0-9a-f]{64}, but \/cfg\/plugwire\.lock records .*Run plugwire install again/,
      ),
    );
    // The digest handed to startPlugin (what the manager passes on every start and restart)
    // refuses the swapped file before it runs.
    await assert.rejects(
      startPlugin({
        cmd: artifact,
        handshake: { magicCookieKey: "K", magicCookieValue: "v", protocolVersion: 1 },
        plugins: {},
        secure: secureFromLock(entry),
        name: "kv",
      }),
      isCode("CHECKSUM_MISMATCH"),
    );
  });
});
