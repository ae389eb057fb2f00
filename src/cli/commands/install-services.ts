// `plugwire install` (and `update`) for a configuration: every installable service, in parallel
// with a bound, staged, then moved into place with the lock written, all or nothing.
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HostConfig } from "../../config/config.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { LockChange, LockEntry, Lockfile } from "../../lock/lock-file.ts";
import { diffLocks, formatLockChanges, lockFileFor, readLock } from "../../lock/lock-file.ts";
import { trustPolicy } from "../../trust/trust-config.ts";
import type { CliContext } from "../context.ts";
import { ParallelProgress, printJson } from "../output.ts";
import { commitInstall } from "./install-commit.ts";
import type { InstallPlan, PlanOptions } from "./install-plan.ts";
import { installedDir, planInstall } from "./install-plan.ts";
import type { StageContext, Staged } from "./install-stage.ts";
import { stagePlugin } from "./install-stage.ts";

export interface InstallRunOptions extends PlanOptions {
  /** Plugins installed at once. Default 4. */
  readonly jobs?: number | undefined;
  readonly allowScripts?: boolean | undefined;
  /** `update`: the word in messages. */
  readonly verb?: "install" | "update" | undefined;
}

/** What one run did (also the `--json` output). */
export interface InstallOutcome {
  readonly lockFile: string;
  readonly installed: ReadonlyArray<LockEntry & { readonly check: string }>;
  readonly failed: ReadonlyArray<{
    readonly name: string;
    readonly code: string;
    readonly message: string;
  }>;
  readonly changes: readonly LockChange[];
  /** The changes, one line each (`+ kv 1.0.4 (npm:kv@^1)`). */
  readonly changeLines: readonly string[];
}

/** Installs the configuration's services and writes the lock; exit status 0, or 1 if any failed. */
export async function installServices(
  config: HostConfig,
  context: CliContext,
  options: InstallRunOptions,
): Promise<number> {
  const lockFile = lockFileFor(config.file);
  const current = await readLock(lockFile);
  const plan = planInstall(config, current, lockFile, options);
  const controller = new AbortController();
  const interrupt = () => controller.abort(new PluginError("CANCELLED", "interrupted"));
  process.once("SIGINT", interrupt);
  const board = new ParallelProgress();
  const stagingDir = join(
    config.manager.cacheDir,
    "installed",
    `.staging-${randomBytes(6).toString("hex")}`,
  );
  try {
    await mkdir(stagingDir, { recursive: true });
    const ctx = stageContext(config, context, lockFile, stagingDir, options, controller.signal);
    const results = await settleLimited(plan.targets, options.jobs ?? 4, async (target) => {
      try {
        return await stagePlugin(target, ctx, board.for(target.name));
      } finally {
        board.finish(target.name);
      }
    });
    board.done();
    const outcome = await finish(config, plan, results, { file: lockFile, current }, options);
    report(outcome, context);
    return outcome.failed.length === 0 ? 0 : 1;
  } finally {
    board.done();
    process.off("SIGINT", interrupt);
    await rm(stagingDir, { recursive: true, force: true });
  }
}

function stageContext(
  config: HostConfig,
  context: CliContext,
  lockFile: string,
  stagingDir: string,
  options: InstallRunOptions,
  signal: AbortSignal,
): StageContext {
  return {
    lockFile,
    cacheDir: config.manager.cacheDir,
    stagingDir,
    cwd: dirname(config.file),
    handshake: context.handshake,
    versions: context.versions,
    startTimeoutMs: context.startTimeoutMs,
    hostVersions: config.manager.hostVersions,
    allowScripts: options.allowScripts === true,
    policy: (target) => trustPolicy(config.trust, target.service?.trust),
    signal,
  };
}

/**
 * All staged: the new lock is the kept entries plus the staged ones; frozen, it must equal the
 * current lock. Anything failed: nothing moves and the lock stays.
 */
async function finish(
  config: HostConfig,
  plan: InstallPlan,
  results: ReadonlyArray<PromiseSettledResult<Staged>>,
  lock: { readonly file: string; readonly current: Lockfile },
  options: InstallRunOptions,
): Promise<InstallOutcome> {
  const staged: Staged[] = [];
  const failed: Array<{ name: string; code: string; message: string }> = [];
  results.forEach((result, i) => {
    if (result.status === "fulfilled") staged.push(result.value);
    else {
      const error = PluginError.from(result.reason).withPlugin(plan.targets[i]!.name);
      failed.push({ name: plan.targets[i]!.name, code: error.code, message: error.message });
    }
  });
  if (failed.length > 0)
    return { lockFile: lock.file, installed: [], failed, changes: [], changeLines: [] };
  const plugins: Record<string, LockEntry> = {};
  for (const entry of plan.kept) plugins[entry.name] = entry;
  for (const { entry } of staged) plugins[entry.name] = entry;
  const next = { plugins };
  if (options.frozen === true) {
    const changes = diffLocks(lock.current, next);
    if (changes.length > 0)
      throw new PluginError(
        "LOCK_FROZEN",
        `${lock.file} is frozen, but this install would change it:\n  ${formatLockChanges(changes, next).join("\n  ")}\nNothing was installed. Run plugwire install without --frozen and commit the new lock, or find why the build differs here`,
        { details: { file: lock.file, changes } },
      );
  }
  const changes = await commitInstall(
    staged.map((s) => ({ from: s.dir, to: s.target.dest })),
    { file: lock.file, current: lock.current, next },
    plan.removed.map((name) => installedDir(config, name)),
  );
  return {
    lockFile: lock.file,
    installed: staged.map((s) => ({ ...s.entry, check: s.check })),
    failed,
    changes,
    changeLines: formatLockChanges(changes, next),
  };
}

function report(outcome: InstallOutcome, context: CliContext): void {
  if (context.json) {
    printJson(outcome);
    return;
  }
  for (const failure of outcome.failed) process.stderr.write(`✖ ${failure.message}\n`);
  if (outcome.failed.length > 0) {
    process.stderr.write(
      `plugwire: ${outcome.failed.length} plugin(s) failed; nothing was installed and ${outcome.lockFile} is unchanged\n`,
    );
    return;
  }
  for (const entry of outcome.installed) {
    const at = entry.version ?? entry.commit?.slice(0, 12);
    const signed = entry.signedBy === undefined ? "" : `, signed by ${entry.signedBy}`;
    process.stdout.write(
      `✔ ${entry.name}${at === undefined ? "" : ` ${at}`} (sha256 ${entry.sha256.slice(0, 12)}${signed}): ${entry.check}\n`,
    );
  }
  if (outcome.changes.length === 0) process.stdout.write(`${outcome.lockFile} is up to date\n`);
  else
    process.stdout.write(
      `${outcome.lockFile}:\n${outcome.changeLines.map((l) => `  ${l}`).join("\n")}\n`,
    );
}

/** Runs `fn` over `items`, at most `limit` at once, and settles every one. */
async function settleLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!).then(
        (value) => ({ status: "fulfilled", value }) as const,
        (reason: unknown) => ({ status: "rejected", reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
