// `plugwire install <source> --dir DIR` with a configuration in use: the plugin placed in the
// plugin directory gets its lock entry, so discovery runs it only as installed.
import { statSync } from "node:fs";
import { basename, dirname, relative } from "node:path";
import type { HostConfig } from "../../config/config.ts";
import { findPackageManifest, readPackageManifest } from "../../discovery/package-manifest.ts";
import type { LockEntry } from "../../lock/lock-file.ts";
import { formatLockChanges, lockFileFor, readLock, updateLock } from "../../lock/lock-file.ts";
import { sha256File } from "../../trust/sha256sums.ts";
import { parseReference } from "../../versions/constraint.ts";

/** Records an installed plugin (a file, or a package folder) in the configuration's lock. */
export async function recordInstalled(
  config: HostConfig,
  installed: {
    readonly source: string;
    /** The installed executable or package folder. */
    readonly installed: string;
    readonly commit: string | undefined;
    /** The version a range resolved to (`name@range` sources). */
    readonly version?: string | undefined;
    readonly ref: string | undefined;
  },
): Promise<{ lockFile: string; line: string } | undefined> {
  const lockFile = lockFileFor(config.file);
  const artifact = await artifactOf(installed.installed);
  const entry: LockEntry = {
    name: basename(installed.installed),
    source: installed.ref === undefined ? installed.source : `${installed.source}#${installed.ref}`,
    constraint: rangeOf(installed.source),
    version: installed.version,
    commit: installed.commit,
    integrity: installed.commit === undefined ? undefined : `git:${installed.commit}`,
    sha256: await sha256File(artifact),
    artifact: relative(dirname(lockFile), artifact),
  };
  const current = await readLock(lockFile);
  const next = { plugins: { ...current.plugins, [entry.name]: entry } };
  const changes = await updateLock(lockFile, current, next);
  if (changes.length === 0) return { lockFile, line: "up to date" };
  return { lockFile, line: formatLockChanges(changes, next).join("; ") };
}

/** The range written in the source (`npm:kv@^1`), if any. */
function rangeOf(source: string): string | undefined {
  try {
    return parseReference(source).range;
  } catch {
    return undefined;
  }
}

/** The file that runs: the executable itself, or the package's entry. */
async function artifactOf(installed: string): Promise<string> {
  if (!statSync(installed).isDirectory()) return installed;
  const manifest = findPackageManifest(installed);
  if (manifest === undefined) return installed;
  return (await readPackageManifest(manifest)).entry;
}
