// Starting a locked bundle from its startup snapshot (docs/performance.md, decision 16): the
// record beside the bundle (src/sources/snapshot.ts) binds the blob's SHA-256 to the bundle's,
// which the lock records, and to the node binary that built it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { SnapshotRecord } from "./snapshot-record.ts";
import { readSnapshotRecord, sameNode, snapshotFiles } from "./snapshot-record.ts";

/** A verified blob held open for one start: node reads it through this process's descriptor. */
export interface HeldSnapshot {
  /** `/proc/<this pid>/fd/<n>`: the open file that was hashed, whatever happens to the path. */
  readonly path: string;
  /** Closes the descriptor; idempotent (also done by itself after `holdMs`). */
  release(): void;
}

/** How long a held blob stays open when nobody releases it: the child reads it at exec. */
const holdMs = 60_000;

/** Blobs this process hashed, by file identity (device, inode, size, mtime, ctime): their SHA-256. */
const hashed = new Map<string, Promise<string>>();

async function sha256Of(file: FileHandle): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
  }
  return hash.digest("hex");
}

/**
 * The snapshot to start a locked bundle from, or undefined to run the bundle itself: `sha256` is
 * the bundle's, as the lock records it (and as checked at rest). The record beside the bundle
 * must have been written for that bundle and this node (a blob runs on the binary that built it
 * alone), and only on Linux (node opens this process's descriptor through /proc). The blob is
 * opened once and hashed from that open file (once per file identity: any write changes its
 * ctime), so a blob swapped or edited after it was built is CHECKSUM_MISMATCH; a missing one, or
 * a record for another bundle or node, runs the bundle.
 */
export async function heldSnapshot(
  bundle: string,
  sha256: string,
  plugin: string,
  lockFile: string,
): Promise<HeldSnapshot | undefined> {
  if (process.platform !== "linux") return undefined;
  const record = readSnapshotRecord(bundle);
  if (record === undefined || record.bundle !== sha256 || !sameNode(record)) return undefined;
  const blob = join(dirname(bundle), record.blob);
  let file: FileHandle;
  try {
    file = await open(blob, "r");
  } catch {
    return undefined;
  }
  try {
    await check(file, blob, record, { plugin, lockFile, recordFile: snapshotFiles(bundle).record });
  } catch (error) {
    await file.close();
    throw error;
  }
  let closed = false;
  const release = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    void file.close();
  };
  const timer = setTimeout(release, holdMs);
  timer.unref();
  const path = `/proc/${process.pid}/fd/${file.fd}`;
  if (!othersCanOpen(path)) {
    release();
    return undefined;
  }
  return { path, release };
}

let openable: boolean | undefined;

/**
 * Whether another process of this user can open this process's descriptors through /proc (not
 * when this process is not dumpable, or /proc is mounted with restrictions): tried once, with
 * the first blob, by a shell, so that a start never fails on it.
 */
function othersCanOpen(path: string): boolean {
  openable ??=
    spawnSync("/bin/sh", ["-c", 'exec 3< "$1"', "sh", path], { stdio: "ignore" }).status === 0;
  return openable;
}

async function check(
  file: FileHandle,
  blob: string,
  record: SnapshotRecord,
  at: { plugin: string; lockFile: string; recordFile: string },
): Promise<void> {
  const stat = await file.stat({ bigint: true });
  const identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  // Plugins started together from one blob share one hashing of it.
  let hashing = hashed.get(identity);
  if (hashing === undefined) {
    hashing = sha256Of(file);
    hashed.set(identity, hashing);
    hashing.catch(() => hashed.delete(identity));
  }
  const actual = await hashing;
  if (actual === record.sha256) return;
  throw new PluginError(
    "CHECKSUM_MISMATCH",
    `${blob} has sha256 ${actual}, but ${at.recordFile} records ${record.sha256} for the startup snapshot of the bundle ${at.lockFile} locks: the blob changed after it was built, and it was not started. Run plugwire install again to restore it`,
    {
      plugin: at.plugin,
      details: { path: blob, lockFile: at.lockFile, actual, expected: record.sha256 },
    },
  );
}
