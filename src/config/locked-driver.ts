// A configured service that plugwire install placed: at every start (and restart) the lock is
// read again and the installed artifact is run only as the lock records it.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { LockedCommand } from "../discovery/locked-command.ts";
import { explainLockRefusal, lockedCommand } from "../discovery/locked-command.ts";
import type { PackageManifest } from "../discovery/package-manifest.ts";
import { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { lockedArtifactPath } from "../lock/launch-check.ts";
import type { LockEntry } from "../lock/lock-file.ts";
import { lockedEntry, readLock } from "../lock/lock-file.ts";

/** What identifies a service's entry in the lock. */
export interface LockKey {
  /** The lock file (next to the configuration). */
  readonly file: string;
  /** The service's name, the entry's key. */
  readonly name: string;
  /** The source as the entry records it (`serviceSource`). */
  readonly source: string;
  readonly constraint: string | undefined;
}

/** An installed artifact the lock vouches for, ready to spawn. */
export interface LockedArtifact {
  readonly entry: LockEntry;
  readonly artifact: string;
  /** The package manifest beside the artifact (handshake, args, engines), if any. */
  readonly pkg: PackageManifest | undefined;
  readonly command: LockedCommand;
}

/**
 * The service's lock entry as it is now on disk, or undefined when there is no lock file (the
 * service is then built from its source at start, as without a lock). A lock that exists but has
 * no entry for this source and constraint, or whose artifact is gone, is `NOT_INSTALLED`.
 */
export async function currentLockEntry(key: LockKey): Promise<LockEntry | undefined> {
  if (!existsSync(key.file)) return undefined;
  const lock = await readLock(key.file);
  const entry = lockedEntry(lock, key.name, key.source, key.constraint);
  if (entry === undefined) {
    const other = lock.plugins[key.name];
    const why =
      other === undefined
        ? `${key.file} has no entry for it`
        : `its entry in ${key.file} was written for ${other.source}${other.constraint === undefined ? "" : ` ${other.constraint}`}, and the configuration now says ${key.source}${key.constraint === undefined ? "" : ` ${key.constraint}`}`;
    throw new PluginError(
      "NOT_INSTALLED",
      `${why}, so nothing vouches for what would run. Run plugwire install (and commit the lock)`,
      { plugin: key.name, details: { lockFile: key.file, source: key.source } },
    );
  }
  return entry;
}

/**
 * Checks and prepares a locked artifact for one start: it must exist; a script is hashed now and
 * again by the child's loader, an executable at exec (`lockedCommand`).
 */
export async function prepareLocked(entry: LockEntry, key: LockKey): Promise<LockedArtifact> {
  const artifact = lockedArtifactPath(entry, key.file);
  if (artifact === undefined || !existsSync(artifact))
    throw new PluginError(
      "NOT_INSTALLED",
      `${artifact ?? "its artifact"} (recorded in ${key.file}) does not exist: it was removed after it was installed, or this is a fresh checkout. Run plugwire install to place it again`,
      { plugin: key.name, details: { lockFile: key.file, path: artifact } },
    );
  const manifestFile = findPackageManifest(dirname(artifact));
  const pkg = manifestFile === undefined ? undefined : await readPackageManifest(manifestFile);
  try {
    const command = await lockedCommand(entry, artifact, key.file, pkg?.args ?? []);
    return { entry, artifact, pkg, command };
  } catch (error) {
    throw explainLockRefusal(error, entry, key.file);
  }
}
