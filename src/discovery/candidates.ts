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
  | "incompatible"
  | "crashed"
  | "timed-out"
  | "invalid-manifest"
  | "not-trusted"
  | "failed";

/**
 * What discovery may run: `"all"` (default) starts every executable it finds, as go-plugin hosts
 * that scan a folder do; `"manifest"` starts only plugin packages (a folder with `plugwire.json`
 * or `plugwire.toml`) and files named one by one in `paths`, and reports every other executable
 * as `not-trusted` without running it.
 */
export type DiscoveryRun = "all" | "manifest";

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
export async function listCandidates(
  paths: readonly string[],
  run: DiscoveryRun = "all",
): Promise<Candidate[]> {
  if (run !== "all" && run !== "manifest")
    throw new TypeError(
      `Expected the \`run\` option to be "all" or "manifest", got \`${String(run)}\` (${typeof run})`,
    );
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const entry of paths) {
    const expanded = await expand(entry);
    // Named on its own (not found by scanning a folder or matching a glob): declared by the caller.
    const named = expanded.length === 1 && expanded[0] === entry;
    for (const path of expanded) {
      const full = resolve(path);
      if (seen.has(full)) continue;
      seen.add(full);
      const candidate = await classify(full);
      out.push(run === "manifest" && !named ? trusted(candidate) : candidate);
    }
  }
  return out;
}

/** In `"manifest"` mode, a bare executable found by a scan is reported, never run. */
function trusted(candidate: Candidate): Candidate {
  if (candidate.kind !== "executable") return candidate;
  return {
    kind: "skip",
    path: candidate.path,
    reason: "not-trusted",
    message:
      'not trusted: it has no plugwire.json or plugwire.toml; discovery runs only declared plugins in this mode (discovery = "manifest")',
  };
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
