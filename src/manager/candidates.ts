import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import { join, resolve } from "node:path";
import { findPackageManifest } from "./package-manifest.ts";

/** Why a candidate was not registered; one word for programs, with a line for people. */
export type SkipReason =
  | "not-a-plugin"
  | "not-executable"
  | "wrong-cookie"
  | "version-mismatch"
  | "crashed"
  | "timed-out"
  | "invalid-manifest"
  | "failed";

/** Something found in a plugin directory. */
export type Candidate =
  | { readonly kind: "executable"; readonly path: string }
  | { readonly kind: "package"; readonly path: string; readonly manifestFile: string }
  | {
      readonly kind: "skip";
      readonly path: string;
      readonly reason: SkipReason;
      readonly message: string;
    };

/**
 * Lists the candidates in `paths`: a directory is scanned (one level; hidden entries ignored), a
 * glob (`plugins/*-provider`) expands to its matches, a file stands for itself. Nothing is run.
 */
export async function listCandidates(paths: readonly string[]): Promise<Candidate[]> {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const entry of paths) {
    for (const path of await expand(entry)) {
      const full = resolve(path);
      if (seen.has(full)) continue;
      seen.add(full);
      out.push(await classify(full));
    }
  }
  return out;
}

async function expand(entry: string): Promise<string[]> {
  if (/[*?[{]/.test(entry)) {
    const matches: string[] = [];
    for await (const match of fs.glob(entry)) matches.push(match);
    return matches.sort();
  }
  const info = await fs.stat(entry).catch(() => undefined);
  if (info === undefined) return [];
  if (info.isDirectory() && findPackageManifest(entry) === undefined) {
    const names = (await fs.readdir(entry)).filter((name) => !name.startsWith(".")).sort();
    return names.map((name) => join(entry, name));
  }
  return [entry];
}

/** Decides what one path is, from its type, permissions and first bytes. */
export async function classify(path: string): Promise<Candidate> {
  const info = await fs.stat(path).catch(() => undefined);
  if (info === undefined)
    return {
      kind: "skip",
      path,
      reason: "not-a-plugin",
      message: "not a plugin: it does not exist",
    };
  if (info.isDirectory()) {
    const manifestFile = findPackageManifest(path);
    if (manifestFile !== undefined) return { kind: "package", path, manifestFile };
    return {
      kind: "skip",
      path,
      reason: "not-a-plugin",
      message: "not a plugin: a folder without plugwire.json or plugwire.toml",
    };
  }
  if (!info.isFile())
    return {
      kind: "skip",
      path,
      reason: "not-a-plugin",
      message: "not a plugin: not a regular file",
    };
  const executable = await fs.access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (executable) return { kind: "executable", path };
  const head = await firstBytes(path, 4);
  const looksRunnable =
    head.toString("latin1").startsWith("#!") || head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  return looksRunnable
    ? {
        kind: "skip",
        path,
        reason: "not-executable",
        message:
          "not executable: it looks like a program but lacks the execute permission (chmod +x)",
      }
    : {
        kind: "skip",
        path,
        reason: "not-a-plugin",
        message: "not a plugin: not executable and not a program (a data or text file)",
      };
}

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const file = await fs.open(path, "r").catch(() => undefined);
  if (file === undefined) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await file.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
