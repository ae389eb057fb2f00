// The last step of an install: every staged plugin moves into place and the lock is written, or
// nothing changes. Replaced folders are kept aside until the lock is written, so a failure
// puts the previous install back.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { LockChange, Lockfile } from "../../lock/lock-file.ts";
import { updateLock } from "../../lock/lock-file.ts";

/** A staged folder and where it goes. */
export interface Move {
  readonly from: string;
  readonly to: string;
}

/**
 * Moves each staged folder to its place (the previous one set aside), writes `next` as the lock
 * when it differs from `current`, then drops what was set aside and the `removed` folders. If
 * anything fails, the moved folders are taken out again and the previous ones restored.
 */
export async function commitInstall(
  moves: readonly Move[],
  lock: { readonly file: string; readonly current: Lockfile; readonly next: Lockfile },
  removed: readonly string[] = [],
): Promise<LockChange[]> {
  const tag = randomBytes(4).toString("hex");
  const done: Array<Move & { aside: string | undefined }> = [];
  try {
    for (const move of moves) {
      await mkdir(dirname(move.to), { recursive: true });
      const aside = existsSync(move.to) ? `${move.to}.old-${tag}` : undefined;
      if (aside !== undefined) await rename(move.to, aside);
      done.push({ ...move, aside });
      await rename(move.from, move.to);
    }
    const changes = await updateLock(lock.file, lock.current, lock.next);
    for (const { aside } of done)
      if (aside !== undefined) await rm(aside, { recursive: true, force: true });
    for (const dir of removed) await rm(dir, { recursive: true, force: true });
    return changes;
  } catch (error) {
    for (const { to, aside } of done.reverse()) {
      await rm(to, { recursive: true, force: true });
      if (aside !== undefined) await rename(aside, to).catch(() => {});
    }
    throw error;
  }
}
