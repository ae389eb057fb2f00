import { relative } from "node:path";
import { discoverPlugins } from "../../manager/discovery.ts";
import type { CliContext } from "../context.ts";
import { requireHandshake, UsageError } from "../context.ts";
import { printJson } from "../output.ts";

/** `plugwire doctor`: tries every candidate in the plugin directories and explains each failure. */
export async function doctor(context: CliContext): Promise<number> {
  if (context.dirs.length === 0)
    throw new UsageError("doctor needs a plugin directory (or --config with plugin_dirs)");
  const result = await discoverPlugins({
    paths: context.dirs,
    handshake: requireHandshake(context),
    versions: context.versions,
    startTimeoutMs: context.startTimeoutMs,
    supervise: { healthIntervalMs: 0 },
  });
  await Promise.all(result.found.map((f) => f.plugin.close()));
  const name = (path: string) => relative(process.cwd(), path) || path;
  const rows = [
    ...result.found.map((f) => ({
      path: name(f.path),
      ok: true,
      reason: "ok",
      message: `ok: plugin ${f.plugin.id} ${f.plugin.manifest.version} started in ${f.startMs} ms`,
    })),
    ...result.skipped.map((s) => ({
      path: name(s.path),
      ok: false,
      reason: s.reason,
      message: s.message,
    })),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  if (context.json) printJson({ elapsedMs: result.elapsedMs, candidates: rows });
  else {
    for (const row of rows)
      process.stdout.write(`${row.ok ? "✔" : "✖"} ${row.path}\n    ${row.message}\n`);
    process.stdout.write(
      `\n${result.found.length} plugin(s) ok, ${result.skipped.length} problem(s), checked in ${result.elapsedMs} ms\n`,
    );
  }
  return result.skipped.length === 0 ? 0 : 1;
}
