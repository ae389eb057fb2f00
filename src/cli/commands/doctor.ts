import { relative, resolve } from "node:path";
import { discoverPlugins } from "../../discovery/discovery.ts";
import type { CliContext } from "../context.ts";
import { requireHandshake, UsageError } from "../context.ts";
import { printJson, progress, progressLine, stderrTail } from "../output.ts";
import { missingPaths } from "../target.ts";

/**
 * `plugwire doctor`: tries every candidate in the plugin directories and explains each failure,
 * with the last lines the plugin wrote to stderr. A path that does not exist, or holds no plugin
 * candidate at all, is a problem too (exit 1).
 */
export async function doctor(context: CliContext): Promise<number> {
  if (context.dirs.length === 0)
    throw new UsageError("doctor needs a plugin directory (or --config with plugin_dirs)");
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
    supervise: { healthIntervalMs: 0 },
  }).finally(() => progressLine.done());
  await Promise.all(result.found.map((f) => f.plugin.close()));
  const rows = [
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
      `\n${result.found.length} plugin(s) ok, ${problems} problem(s), checked in ${result.elapsedMs} ms\n`,
    );
  }
  return problems === 0 ? 0 : 1;
}
