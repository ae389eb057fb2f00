// The record of a bundle's startup snapshot (src/sources/snapshot.ts), a JSON file beside it,
// read by the launchers before they start a blob (snapshot-launch.ts): light, for the host's side.
// It is not in the bundle: a blob is not byte-for-byte reproducible, and the bundle, whose
// SHA-256 the lock records, must be (a reinstall with --frozen builds it again and compares).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** What is recorded of a snapshot built from a bundle. */
export interface SnapshotRecord {
  /** The blob's file name, beside the bundle. */
  readonly blob: string;
  /** The blob's SHA-256, taken when it was built. */
  readonly sha256: string;
  /** The SHA-256 of the bundle it was built from (the lock's, for an installed plugin). */
  readonly bundle: string;
  /** The node binary that built it, which alone can start it. */
  readonly node: NodeIdentity;
}

/** A node binary as far as a snapshot depends on it. */
export interface NodeIdentity {
  readonly execPath: string;
  readonly platform: string;
  readonly arch: string;
  /** SHA-256 of `process.versions` (node, V8, OpenSSL…) as JSON. */
  readonly versions: string;
}

/** This process's node. */
export function thisNode(): NodeIdentity {
  return {
    execPath: process.execPath,
    platform: process.platform,
    arch: process.arch,
    versions: createHash("sha256").update(JSON.stringify(process.versions)).digest("hex"),
  };
}

/** Whether `record`'s blob was built by the node this process runs on. */
export function sameNode(record: SnapshotRecord, node: NodeIdentity = thisNode()): boolean {
  const built = record.node;
  return (
    built.execPath === node.execPath &&
    built.platform === node.platform &&
    built.arch === node.arch &&
    built.versions === node.versions
  );
}

/** The snapshot's files beside `bundle.mjs` (or `plugin.bundle.mjs`): the blob and its record. */
export function snapshotFiles(bundleFile: string): { blob: string; record: string } {
  const base = join(dirname(bundleFile), basename(bundleFile).replace(/\.m?js$/, ""));
  return { blob: `${base}.snapshot.blob`, record: `${base}.snapshot.json` };
}

/** The record beside a bundle, if there is a well-formed one. */
export function readSnapshotRecord(bundleFile: string): SnapshotRecord | undefined {
  let record: SnapshotRecord;
  try {
    record = JSON.parse(readFileSync(snapshotFiles(bundleFile).record, "utf8")) as SnapshotRecord;
  } catch {
    return undefined;
  }
  const hex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  return typeof record?.blob === "string" &&
    /^[^/\\]+\.blob$/.test(record.blob) &&
    hex(record.sha256) &&
    hex(record.bundle) &&
    typeof record.node?.execPath === "string"
    ? record
    : undefined;
}
