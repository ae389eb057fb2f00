// How a locked plugin is run so that what runs is what the lock records, for both kinds of
// artifact: an executable is hashed from the descriptor it is exec'd from (host/start/checksum.ts);
// a script (a TypeScript plugin's bundle) runs on the host's Node, which loads it itself, so the
// child hashes the very bytes its module loader reads before it evaluates them.
import * as nodeModule from "node:module";
import { resolve, sep } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { SecureConfig } from "../host/start/checksum.ts";
import { lockedArtifactPath, secureFromLock, verifyLaunch } from "../lock/launch-check.ts";
import type { LockEntry, Lockfile } from "../lock/lock-file.ts";
import type { Connection } from "../supervisor/connection.ts";
import type { ProcessSpec } from "../supervisor/launch-process.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import { compileCacheImport } from "./package-manifest.ts";
import { heldSnapshot } from "./snapshot-launch.ts";

/** What to spawn for a locked artifact. */
export interface LockedCommand {
  readonly cmd: string;
  readonly args: string[];
  /** For executables: the digest `startPlugin` checks on the descriptor it execs. */
  readonly secure: SecureConfig | undefined;
  /**
   * Closes what the command holds open for its start (a bundle's verified snapshot blob), once
   * the process is up; closed by itself a minute later otherwise.
   */
  readonly release?: (() => void) | undefined;
}

/** Whether an artifact is a script run by the host's Node rather than an executable. */
export function isScriptArtifact(path: string): boolean {
  return /\.(m?ts|m?js|cjs|cts)$/.test(path);
}

/** The exit status a script plugin ends with when its bytes are not the locked ones. */
export const scriptMismatchExit = 86;

/**
 * The command for a locked artifact. An executable runs as itself with `secure` (hashed from the
 * open file that is exec'd). A script is checked here first, so a tampered file at rest is
 * `CHECKSUM_MISMATCH` before anything starts, and again inside the child: a module hook hashes
 * the source Node's loader read for the entry and evaluates only those bytes, so a file swapped
 * between the two checks is refused too (the child exits with `scriptMismatchExit`).
 */
export async function lockedCommand(
  entry: LockEntry,
  artifact: string,
  lockFile: string,
  args: readonly string[] = [],
): Promise<LockedCommand> {
  if (!isScriptArtifact(artifact))
    return { cmd: artifact, args: [...args], secure: secureFromLock(entry) };
  await verifyLaunch(entry, artifact, lockFile);
  // A bundle with a startup snapshot that this node built for it starts from the blob, hashed
  // from the open file node reads (snapshot-launch.ts); the bundle itself is then not loaded.
  const snapshot = await heldSnapshot(artifact, entry.sha256, entry.name, lockFile);
  if (snapshot !== undefined)
    return {
      cmd: process.execPath,
      args: ["--snapshot-blob", snapshot.path, artifact, ...args],
      secure: undefined,
      release: snapshot.release,
    };
  // As the build's launcher: no --enable-source-maps at every start (typescript-build.ts).
  const imports = ["--import", compileCacheImport];
  // Node before 22.15 has no synchronous module hooks: the host's check above is then the only
  // one, and a swap between it and the child's read goes unseen (docs/trust.md says so).
  if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks === "function")
    imports.push("--import", verifierImport(artifact, entry.sha256, entry.name, lockFile));
  return { cmd: process.execPath, args: [...imports, artifact, ...args], secure: undefined };
}

/**
 * A `data:` module for `--import` that registers a load hook: the first file Node loads after it
 * must be `artifact` (the entry), and the source the loader read for it must have `sha256`;
 * otherwise the plugin writes the reason on stderr and exits before any of its code runs.
 */
export function verifierImport(
  artifact: string,
  sha256: string,
  plugin: string,
  lockFile: string,
): string {
  const code = `import{registerHooks}from"node:module";import{createHash}from"node:crypto";import{realpathSync}from"node:fs";import{pathToFileURL}from"node:url";
const file=${JSON.stringify(artifact)},expected=${JSON.stringify(sha256)};
const refuse=(why)=>{process.stderr.write("[CHECKSUM_MISMATCH] plugin "+${JSON.stringify(plugin)}+": "+why+". It was not run. Run plugwire install again to restore what "+${JSON.stringify(lockFile)}+" records\\n");process.exit(${scriptMismatchExit});};
let want;try{want=pathToFileURL(realpathSync(file)).href;}catch(e){refuse(file+" cannot be read: "+e.message);}
const hooks=registerHooks({load(url,context,nextLoad){const result=nextLoad(url,context);if(!url.startsWith("file:"))return result;hooks.deregister();
if(url!==want)refuse("the entry loaded is "+url+", not "+want);
const got=createHash("sha256").update(typeof result.source==="string"?result.source:new Uint8Array(result.source)).digest("hex");
if(got!==expected)refuse(file+" has sha256 "+got+" but the lock records "+expected);return result;}});`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

/**
 * A start refused for its checksum, said in the lock's terms: which file, which lock, what to do.
 * Other errors pass through.
 */
export function explainLockRefusal(error: unknown, entry: LockEntry, lockFile: string): unknown {
  if (!(error instanceof PluginError) || error.code !== "CHECKSUM_MISMATCH") return error;
  if (error.details.lockFile !== undefined) return error; // verifyLaunch said it already
  const path = String(error.details.path ?? entry.artifact);
  return new PluginError(
    "CHECKSUM_MISMATCH",
    `${path} has sha256 ${String(error.details.actual)}, but ${lockFile} records ${entry.sha256}: the installed file changed after it was installed, and it was not started. Run plugwire install again to restore what the lock records`,
    {
      plugin: entry.name,
      cause: error,
      details: { ...error.details, lockFile, expected: entry.sha256 },
    },
  );
}

/** The lock entry whose artifact is `path` or lies inside the folder `path`, if any. */
export function lockedEntryAt(
  lock: Lockfile,
  lockFile: string,
  path: string,
): { entry: LockEntry; artifact: string } | undefined {
  const at = resolve(path);
  for (const entry of Object.values(lock.plugins)) {
    const artifact = lockedArtifactPath(entry, lockFile);
    if (artifact !== undefined && (artifact === at || artifact.startsWith(`${at}${sep}`)))
      return { entry, artifact };
  }
  return undefined;
}

/**
 * A launch function for a candidate the lock names, or undefined when it names none: every start
 * runs the locked artifact through `lockedCommand` (so each start and restart is checked), with
 * the rest of `spec` (handshake, cwd, env) as discovered.
 */
export function lockedLaunch(
  path: string,
  args: readonly string[],
  spec: ProcessSpec,
  lock: { readonly file: string; readonly lock: Lockfile } | undefined,
): ((signal?: AbortSignal) => Promise<Connection>) | undefined {
  if (lock === undefined) return undefined;
  const found = lockedEntryAt(lock.lock, lock.file, path);
  if (found === undefined) return undefined;
  const { entry, artifact } = found;
  return async (signal) => {
    try {
      const { release, ...command } = await lockedCommand(entry, artifact, lock.file, args);
      try {
        return await launchProcess({ ...spec, ...command }, signal);
      } finally {
        release?.();
      }
    } catch (error) {
      throw explainLockRefusal(error, entry, lock.file);
    }
  };
}
