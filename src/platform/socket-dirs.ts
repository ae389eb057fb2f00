// Private socket directories: `plugwire-<host pid>-XXXXXX` in the temporary directory, so that a
// later host can tell whose a directory is. The first one a host makes sweeps the directories of
// hosts that are gone (normally the tree guard already removed them; this covers a guard killed
// together with its host). A live host's directories are never touched.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "./process.ts";

const pattern = /^plugwire-(\d+)-[A-Za-z0-9]{6}$/;
let swept = false;

/** Creates this host's next private socket directory (0700), sweeping stale ones first. */
export function makeSocketDir(): string {
  const base = tmpdir();
  if (!swept) {
    swept = true;
    sweepStaleSocketDirs(base);
  }
  return mkdtempSync(join(base, `plugwire-${process.pid}-`));
}

/**
 * Removes `plugwire-<pid>-*` directories under `base` whose host pid no longer runs and that
 * belong to this user. Returns the ones removed. Never throws.
 */
export function sweepStaleSocketDirs(base = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const path = join(base, name);
    try {
      const stat = statSync(path);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
