import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { discoverPlugins } from "../../discovery/discovery.ts";
import { lockFileFor, readLock } from "../../lock/lock-file.ts";
import type { CliContext } from "../context.ts";
import { requireHandshake, UsageError } from "../context.ts";
import { printJson, progress, progressLine, stderrTail } from "../output.ts";
import { missingPaths } from "../target.ts";
import type { LockFinding } from "./doctor-lock.ts";
import { lockFindings } from "./doctor-lock.ts";

/**
 * `plugwire doctor`: tries every candidate in the plugin directories and explains each failure,
 * with the last lines the plugin wrote to stderr. A path that does not exist, or holds no plugin
 * candidate at all, is a problem too (exit 1). With a configuration, the lock is checked first
 * (`doctor-lock.ts`): drift, missing entries, signatures, constraints, engines.
 */
export async function doctor(context: CliContext): Promise<number> {
  const lock = context.config === undefined ? [] : await lockFindings(context.config);
  if (context.dirs.length === 0) {
    if (context.config === undefined || lock.length === 0)
      throw new UsageError(
        "doctor needs a plugin directory (or --config with plugin_dirs or services to install)",
      );
    return printLockOnly(lock, context);
  }
  const handshake = requireHandshake(context);
  const name = (path: string) => relative(process.cwd(), path) || path;
  const missing = missingPaths(context.dirs);
  const present = context.dirs.filter((d) => !missing.includes(d));
  if (present.length > 0) progress(`starting the plugins in ${present.map(name).join(", ")}`);
  const result = await discoverPlugins({
    paths: present,
    handshake,
    versions: context.versions,
    startTimeoutMs: context.startTimeoutMs,
    run: context.discovery,
    process: { start: { hostEnv: context.hostEnv } },
    hostVersions: context.config?.manager.hostVersions,
    lock: await dirLock(context),
    supervise: { healthIntervalMs: 0 },
  }).finally(() => progressLine.done());
  await Promise.all(result.found.map((f) => f.plugin.close()));
  const rows = [
    ...lock.map((f) => ({ ...f, stderr: undefined as string | undefined })),
    ...missing.map((path) => ({
      path: name(resolve(path)),
      ok: false,
      reason: "missing",
      message: `missing: ${path} does not exist`,
      stderr: undefined as string | undefined,
    })),
    ...result.found.map((f) => ({
      path: name(f.path),
      ok: true,
      reason: "ok",
      message: `ok: plugin ${f.plugin.id} ${f.plugin.manifest.version} started in ${f.startMs} ms`,
      stderr: undefined,
    })),
    ...result.skipped.map((s) => ({
      path: name(s.path),
      ok: false,
      reason: s.reason,
      message: s.message,
      stderr: s.error?.details.stderr as string | undefined,
    })),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const found = result.found.length + lock.filter((f) => f.ok).length;
  const empty = result.found.length + result.skipped.length === 0 && present.length > 0;
  const problems = rows.filter((r) => !r.ok).length + (empty ? 1 : 0);
  if (context.json) printJson({ elapsedMs: result.elapsedMs, empty, problems, candidates: rows });
  else {
    for (const row of rows) {
      const tail = stderrTail({ details: { stderr: row.stderr } });
      process.stdout.write(
        `${row.ok ? "✔" : "✖"} ${row.path}\n    ${row.message}\n${tail === "" ? "" : `${tail}\n`}`,
      );
    }
    if (empty)
      process.stdout.write(
        `✖ no plugin candidates in ${present.map(name).join(", ")} (an empty folder?)\n`,
      );
    process.stdout.write(
      `\n${found} plugin(s) ok, ${problems} problem(s), checked in ${result.elapsedMs} ms\n`,
    );
  }
  return problems === 0 ? 0 : 1;
}

/** The lock, for plugins `install <source>` placed in the plugin directories. */
async function dirLock(context: CliContext) {
  if (context.config === undefined) return undefined;
  const file = lockFileFor(context.config.file);
  if (!existsSync(file)) return undefined;
  return { file, lock: await readLock(file).catch(() => ({ plugins: {} })) };
}

/** A configuration with services and no plugin directories: only the lock is checked. */
function printLockOnly(findings: readonly LockFinding[], context: CliContext): number {
  const problems = findings.filter((f) => !f.ok).length;
  if (context.json) printJson({ problems, candidates: findings });
  else {
    for (const f of findings)
      process.stdout.write(`${f.ok ? "✔" : "✖"} ${f.path}\n    ${f.message}\n`);
    process.stdout.write(`\n${findings.length - problems} plugin(s) ok, ${problems} problem(s)\n`);
  }
  return problems === 0 ? 0 : 1;
}
