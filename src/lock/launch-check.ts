import { dirname, isAbsolute, join } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { SecureConfig } from "../host/start/checksum.ts";
import { sha256File } from "../trust/sha256sums.ts";
import type { LockEntry } from "./lock-file.ts";

/** What to run for a locked plugin, and the digest `startPlugin` checks at exec. */
export interface VerifiedLaunch {
  /** The artifact's absolute path (the executable, or the script the host's Node runs). */
  readonly path: string;
  /** Pass as `secure` to `startPlugin` / `ProcessSpec` when `path` is the command itself. */
  readonly secure: SecureConfig;
}

/** `secure` for `startPlugin` from a lock entry: its SHA-256 (no file access). */
export function secureFromLock(entry: LockEntry): SecureConfig {
  return { checksum: entry.sha256, hash: "sha256" };
}

/** The artifact a lock entry names, absolute (relative paths are from the lock's folder). */
export function lockedArtifactPath(entry: LockEntry, lockFile: string): string | undefined {
  if (entry.artifact === undefined) return undefined;
  return isAbsolute(entry.artifact) ? entry.artifact : join(dirname(lockFile), entry.artifact);
}

/**
 * Checks an installed artifact against its lock entry before a launch and returns what to run:
 * the path, and `secure` for `startPlugin`, which hashes the file again at exec so that what runs
 * is what was checked. A different file is `CHECKSUM_MISMATCH` naming the file and the lock.
 * Call it (or pass `secureFromLock` in the start spec) before every start and restart.
 */
export async function verifyLaunch(
  entry: LockEntry,
  path: string,
  lockFile: string,
): Promise<VerifiedLaunch> {
  let actual: string;
  try {
    actual = await sha256File(path);
  } catch (error) {
    throw new PluginError(
      "SPAWN_FAILED",
      `${path} cannot be read to check it against ${lockFile}: ${(error as Error).message}. Run plugwire install again`,
      { plugin: entry.name, cause: error, details: { path, lockFile } },
    );
  }
  if (actual !== entry.sha256)
    throw new PluginError(
      "CHECKSUM_MISMATCH",
      `${path} has sha256 ${actual}, but ${lockFile} records ${entry.sha256}: the installed file changed after it was installed, and it was not started. Run plugwire install again to restore what the lock records (or plugwire verify it if you expected a new version)`,
      { plugin: entry.name, details: { path, lockFile, actual, expected: entry.sha256 } },
    );
  return { path, secure: secureFromLock(entry) };
}
