import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { waitFor } from "../../test/support/wait.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { LockEntry } from "../lock/lock-file.ts";
import { sha256File } from "../trust/sha256sums.ts";
import {
  explainLockRefusal,
  isScriptArtifact,
  lockedCommand,
  lockedEntryAt,
  scriptMismatchExit,
} from "./locked-command.ts";
import type { SnapshotRecord } from "./snapshot-record.ts";
import { snapshotFiles, thisNode } from "./snapshot-record.ts";

function temp() {
  const dir = mkdtempSync(join(tmpdir(), "pw-locked-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const entry = (sha256: string, artifact?: string): LockEntry => ({
  name: "greeter",
  source: "npm:greeter@^1",
  sha256,
  artifact,
});

/** A startup snapshot that prints its argv: `bundle.snapshot.blob` in `dir`. */
function tinySnapshot(dir: string): string {
  const blob = join(dir, "bundle.snapshot.blob");
  const main = 'process.stdout.write("snapshot " + process.argv.slice(1).join(" "))';
  writeFileSync(
    join(dir, "builder.cjs"),
    `require("node:v8").startupSnapshot.setDeserializeMainFunction(() => ${main});\n`,
  );
  const args = ["--snapshot-blob", blob, "--build-snapshot", "builder.cjs"];
  const built = spawnSync(process.execPath, args, { cwd: dir });
  assert.equal(built.status, 0, String(built.stderr));
  return blob;
}

describe("locked commands", () => {
  it("an executable runs as itself, checked at exec by its digest", async () => {
    const command = await lockedCommand(
      entry("ab".repeat(32)),
      "/opt/p/plugin",
      "/p/plugwire.lock",
      ["-v"],
    );
    assert.deepEqual(command, {
      cmd: "/opt/p/plugin",
      args: ["-v"],
      secure: { checksum: "ab".repeat(32), hash: "sha256" },
    });
    assert.equal(isScriptArtifact("/x/bundle.mjs"), true);
    assert.equal(isScriptArtifact("/x/plugin"), false);
  });

  it("a script runs on this Node only with the locked bytes, checked by the host and again by the child's loader", async () => {
    using tmp = temp();
    const bundle = join(tmp.dir, "bundle.mjs");
    writeFileSync(bundle, 'process.stdout.write("ran " + process.argv.slice(2).join(" "));\n');
    const locked = entry(await sha256File(bundle), "bundle.mjs");
    const lockFile = join(tmp.dir, "plugwire.lock");
    const run = (c: { cmd: string; args: string[] }) =>
      spawnSync(c.cmd, c.args, { encoding: "utf8" });

    const ok = run(await lockedCommand(locked, bundle, lockFile, ["a", "b"]));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "ran a b");

    // Changed at rest: the host refuses before anything runs.
    writeFileSync(bundle, 'process.stdout.write("evil");\n');
    await assert.rejects(lockedCommand(locked, bundle, lockFile), (error: PluginError) => {
      assert.equal(error.code, "CHECKSUM_MISMATCH");
      assert.equal(error.plugin, "greeter");
      assert.ok(error.message.includes(bundle) && error.message.includes(lockFile));
      return true;
    });

    // Swapped after the host's check: the child hashes what its loader read and never runs it.
    writeFileSync(bundle, 'process.stdout.write("ran");\n');
    const good = entry(await sha256File(bundle), "bundle.mjs");
    const command = await lockedCommand(good, bundle, lockFile);
    writeFileSync(bundle, 'process.stdout.write("evil");\n');
    const swapped = run(command);
    assert.equal(swapped.status, scriptMismatchExit);
    assert.equal(swapped.stdout, "");
    assert.match(
      swapped.stderr,
      /^\[CHECKSUM_MISMATCH\] plugin greeter: .*bundle\.mjs has sha256 [0-9a-f]{64} but the lock records/,
    );
    assert.match(swapped.stderr, /Run plugwire install again/);
  });

  it("a bundle with a startup snapshot built for it starts from the blob, hashed from the open file node reads", async () => {
    using tmp = temp();
    const blob = tinySnapshot(tmp.dir);
    const bundle = join(tmp.dir, "bundle.mjs");
    writeFileSync(bundle, 'process.stdout.write("bundle " + process.argv.slice(2).join(" "));\n');
    const locked = entry(await sha256File(bundle), "bundle.mjs");
    const record: SnapshotRecord = {
      blob: "bundle.snapshot.blob",
      sha256: await sha256File(blob),
      bundle: locked.sha256,
      node: thisNode(),
    };
    const recordFile = snapshotFiles(bundle).record;
    const writeRecord = (r: SnapshotRecord) => writeFileSync(recordFile, JSON.stringify(r));
    writeRecord(record);
    const lockFile = join(tmp.dir, "plugwire.lock");
    const run = (c: { cmd: string; args: string[] }) =>
      spawnSync(c.cmd, c.args, { encoding: "utf8" });

    const command = await lockedCommand(locked, bundle, lockFile, ["a"]);
    assert.equal(command.args[0], "--snapshot-blob");
    assert.match(command.args[1]!, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    assert.deepEqual(command.args.slice(2), [bundle, "a"]);
    // The blob replaced after the check: node still reads the file that was hashed.
    const other = join(tmp.dir, "other.blob");
    writeFileSync(other, "not a snapshot");
    renameSync(other, blob);
    const ok = run(command);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, `snapshot ${bundle} a`);
    command.release?.();
    await waitFor(() => !existsSync(command.args[1]!), 5000, "the blob's descriptor to close");

    // Changed at rest: refused, naming the blob, its record and the lock.
    await assert.rejects(lockedCommand(locked, bundle, lockFile), (error: PluginError) => {
      assert.equal(error.code, "CHECKSUM_MISMATCH");
      assert.equal(error.details.path, blob);
      assert.equal(error.details.lockFile, lockFile);
      assert.ok(error.message.includes(recordFile), error.message);
      assert.match(error.message, /startup snapshot.*Run plugwire install again/);
      return true;
    });

    // A record for another bundle or another node, or no blob: the bundle runs, checked as ever.
    const fallbacks: Array<() => void> = [
      () => writeRecord({ ...record, bundle: "0".repeat(64) }),
      () => writeRecord({ ...record, node: { ...record.node, execPath: "/other/node" } }),
      () => {
        writeRecord(record);
        rmSync(blob);
      },
    ];
    for (const change of fallbacks) {
      change();
      const fallback = await lockedCommand(locked, bundle, lockFile, ["b"]);
      assert.equal(fallback.args.includes("--snapshot-blob"), false);
      const ran = run(fallback);
      assert.equal(ran.status, 0, ran.stderr);
      assert.equal(ran.stdout, "bundle b");
    }
  });

  it("finds the entry whose artifact is a candidate or lies in its folder", () => {
    const lockFile = "/p/plugwire.lock";
    const lock = {
      plugins: {
        a: { ...entry("a".repeat(64), "plugins/a/bundle.mjs"), name: "a" },
        b: { ...entry("b".repeat(64), "/abs/b"), name: "b" },
      },
    };
    assert.equal(lockedEntryAt(lock, lockFile, "/p/plugins/a")?.entry.name, "a");
    assert.equal(
      lockedEntryAt(lock, lockFile, "/p/plugins/a")?.artifact,
      "/p/plugins/a/bundle.mjs",
    );
    assert.equal(lockedEntryAt(lock, lockFile, "/abs/b")?.entry.name, "b");
    assert.equal(lockedEntryAt(lock, lockFile, "/p/plugins/ab"), undefined);
  });

  it("says a refused start in the lock's terms; other errors pass through", () => {
    const refused = new PluginError("CHECKSUM_MISMATCH", "checksums did not match", {
      plugin: "greeter",
      details: { path: "/c/plugin", actual: "1".repeat(64), expected: "2".repeat(64) },
    });
    const explained = explainLockRefusal(
      refused,
      entry("2".repeat(64)),
      "/p/plugwire.lock",
    ) as PluginError;
    assert.match(
      explained.message,
      /^\[CHECKSUM_MISMATCH\] plugin greeter: \/c\/plugin has sha256 1{64}, but \/p\/plugwire\.lock records 2{64}.*Run plugwire install again/,
    );
    const other = new PluginError("SPAWN_FAILED", "no");
    assert.equal(explainLockRefusal(other, entry("2".repeat(64)), "/p/plugwire.lock"), other);
  });
});
