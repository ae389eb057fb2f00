// What a bundle records of the startup snapshot built from it (src/sources/snapshot.ts), read by the
// launchers before they start a blob (snapshot-launch.ts): light, for the host's side.
import { createHash } from "node:crypto";

/** What a bundle records of the snapshot built from it (its last line). */
export interface SnapshotRecord {
  /** The blob's file name, beside the bundle. */
  readonly blob: string;
  readonly sha256: string;
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

export const snapshotMarker = "//# plugwireSnapshot=";

/** The snapshot a bundle's bytes record, if any (the last line, written by `buildSnapshot`). */
export function snapshotRecord(bundleBytes: Buffer): SnapshotRecord | undefined {
  const at = bundleBytes.lastIndexOf(snapshotMarker);
  if (at < 0) return undefined;
  const line = bundleBytes.subarray(at + snapshotMarker.length).toString("utf8");
  if (line.trimEnd().includes("\n")) return undefined; // not the last line
  try {
    const record = JSON.parse(line) as SnapshotRecord;
    return typeof record.blob === "string" &&
      /^[^/\\]+\.blob$/.test(record.blob) &&
      typeof record.sha256 === "string" &&
      typeof record.node?.execPath === "string"
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}
