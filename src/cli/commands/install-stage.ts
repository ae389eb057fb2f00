// One plugin's install, up to a staged folder and its lock entry: resolve within the constraint
// (or exactly what the lock records), fetch and verify, place, hash, check the signature policy
// and engines, and start it once the way the manager will. Nothing here touches the installed
// plugin or the lock; a failure leaves only the staging folder, which the caller removes.
import { dirname, join, relative } from "node:path";
import { lockedCommand } from "../../discovery/locked-command.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { LockEntry } from "../../lock/lock-file.ts";
import { checkLockEntry } from "../../lock/lock-file.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import type { FetchOptions } from "../../sources/resolve.ts";
import { fetchSource, resolveSource } from "../../sources/resolve.ts";
import { launchProcess } from "../../supervisor/launch-process.ts";
import { sha256File } from "../../trust/sha256sums.ts";
import type { TrustPolicy } from "../../trust/trust-policy.ts";
import { verifyArtifact } from "../../trust/trust-policy.ts";
import type { HostVersions } from "../../versions/engines.ts";
import { requireCompatible } from "../../versions/engines.ts";
import { hostVersionsWith } from "../../versions/plugwire-version.ts";
import { stderrTail } from "../output.ts";
import type { Placed } from "./install-place.ts";
import { placeFetched } from "./install-place.ts";
import type { InstallTarget } from "./install-plan.ts";

/** What every plugin of one install shares. */
export interface StageContext {
  readonly lockFile: string;
  readonly cacheDir: string;
  /** Where this install stages its folders (removed by the caller). */
  readonly stagingDir: string;
  /** Plugin processes run here (the configuration's folder). */
  readonly cwd: string;
  /** The manager's handshake (a service's own, then the package's, win over it). */
  readonly handshake: HandshakeConfig | undefined;
  readonly versions: readonly number[] | undefined;
  readonly startTimeoutMs: number;
  readonly hostVersions: HostVersions;
  readonly allowScripts: boolean;
  readonly policy: (target: InstallTarget) => Promise<TrustPolicy>;
  readonly signal: AbortSignal;
}

/** A plugin ready to be moved into place. */
export interface Staged {
  readonly target: InstallTarget;
  /** Its entry, `artifact` already the installed (final) path relative to the lock. */
  readonly entry: LockEntry;
  /** The staged folder, to become `target.dest`. */
  readonly dir: string;
  /** How the start check went. */
  readonly check: string;
}

/** Resolves, fetches, verifies, places and checks one plugin into `ctx.stagingDir/<name>`. */
export async function stagePlugin(
  target: InstallTarget,
  ctx: StageContext,
  onProgress: (message: string) => void,
): Promise<Staged> {
  const { name, spec } = target;
  // Local folders change under their author's hands: reinstalling one takes what is there now
  // (the lock diff shows it); every other source must answer exactly what its entry records.
  const reproduce = spec.kind === "path" || spec.kind === "folder" ? undefined : target.locked;
  const policy = await ctx.policy(target);
  const options: FetchOptions = {
    constraint: target.constraint,
    locked: reproduce,
    lockFile: ctx.lockFile,
    cacheDir: ctx.cacheDir,
    plugin: name,
    projectDir: ctx.cwd,
    signal: ctx.signal,
    onProgress,
    allowScripts: ctx.allowScripts || target.service?.allowInstallScripts === true,
    trust: policy,
  };
  onProgress(
    reproduce === undefined ? "resolving" : `resolving the locked ${lockedLabel(reproduce)}`,
  );
  const resolved = await resolveSource(spec, options);
  if (reproduce !== undefined) checkLockEntry(reproduce, resolved, ctx.lockFile);
  const fetched = await fetchSource(resolved, options);
  if (reproduce !== undefined)
    checkLockEntry(reproduce, { integrity: fetched.integrity }, ctx.lockFile);
  const dir = join(ctx.stagingDir, name.replace(/[^\w.-]+/g, "_"));
  const placed = await placeFetched(fetched, dir, name);
  const signedBy = fetched.signedBy ?? (await signatureBeside(placed, policy, name));
  const sha256 = await sha256File(placed.artifact);
  const entry: LockEntry = {
    name,
    source: target.source,
    constraint: target.constraint,
    version: resolved.version,
    commit: resolved.commit,
    integrity: fetched.integrity,
    sha256,
    artifact: relative(dirname(ctx.lockFile), join(target.dest, relative(dir, placed.artifact))),
    signedBy,
  };
  if (reproduce !== undefined && reproduce.sha256 !== sha256)
    throw notReproduced(reproduce, entry, ctx);
  if (placed.pkg !== undefined)
    requireCompatible(
      { id: name, engines: placed.pkg.engines },
      hostVersionsWith(ctx.hostVersions),
    );
  onProgress("checking that it starts");
  const check = await checkStarts(target, placed, entry, ctx);
  return { target, entry, dir, check };
}

function lockedLabel(entry: LockEntry): string {
  if (entry.version !== undefined) return `version ${entry.version}`;
  return entry.commit === undefined ? "entry" : `commit ${entry.commit.slice(0, 12)}`;
}

/**
 * The signature of a publisher's own file (a prebuilt executable or package entry with its
 * `.sig`), under the policy. A plugin built here from source has no publisher signature over what
 * runs: under `required`, the source itself must have been verified by its fetch.
 */
async function signatureBeside(
  placed: Placed,
  policy: TrustPolicy,
  plugin: string,
): Promise<string | undefined> {
  if (policy.signatures === "off") return undefined;
  if (placed.built) {
    if (policy.signatures === "required")
      throw new PluginError(
        "SIGNATURE_MISSING",
        `it is built here from its source, and nothing signed by its publisher covers that source, while the trust policy requires signatures. Install a signed release (an archive with a signed SHA256SUMS), or set signatures = "if-present" for this service`,
        { plugin },
      );
    return undefined;
  }
  const verified = await verifyArtifact(placed.artifact, { policy, plugin });
  return verified.signer?.fingerprint;
}

function notReproduced(locked: LockEntry, entry: LockEntry, ctx: StageContext): PluginError {
  return new PluginError(
    "LOCK_MISMATCH",
    `what it fetched from ${locked.source} matches ${ctx.lockFile}, but the artifact built from it has sha256 ${entry.sha256} and the lock records ${locked.sha256}. The lock was edited by hand, or the build differs here (another Go, Node or plugwire version). It was refused; if the new build is intended, delete [plugins.${locked.name}] from the lock, install again and review the diff`,
    {
      plugin: locked.name,
      details: { file: ctx.lockFile, key: "sha256", locked: locked.sha256, resolved: entry.sha256 },
    },
  );
}

/**
 * Starts the staged plugin once as the manager will (the locked command, the same handshake and
 * settings), then stops it. Without any handshake to start it with, it is only placed.
 */
async function checkStarts(
  target: InstallTarget,
  placed: Placed,
  entry: LockEntry,
  ctx: StageContext,
): Promise<string> {
  const handshake = target.service?.handshake ?? ctx.handshake ?? placed.pkg?.handshake;
  if (handshake === undefined) return "placed; not started (no handshake in the configuration)";
  const command = await lockedCommand(entry, placed.artifact, ctx.lockFile, placed.pkg?.args);
  try {
    const connection = await launchProcess(
      {
        name: target.name,
        ...command,
        cwd: ctx.cwd,
        handshake,
        versions: ctx.versions ?? placed.pkg?.versions,
        settings: target.service?.settings,
        startTimeoutMs: ctx.startTimeoutMs,
        start: { hostEnv: target.service?.hostEnv },
      },
      ctx.signal,
    );
    await connection.kill();
  } catch (error) {
    const failure = PluginError.from(error);
    if (failure.code === "CANCELLED") throw failure;
    const tail = stderrTail(failure, "  ");
    throw new PluginError(
      "NOT_A_PLUGIN",
      `it was fetched and verified but does not start, so it was not installed: ${failure.rawMessage}${tail === "" ? "" : `\n${tail}`}`,
      { plugin: target.name, cause: failure, details: { stderr: failure.details.stderr } },
    );
  }
  return "starts and answers";
}
