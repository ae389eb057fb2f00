import { relative } from "node:path";
import { ServiceManager } from "../../config/service-manager.ts";
import { PluginRegistry } from "../../discovery/registry.ts";
import type { ManagedPlugin } from "../../supervisor/managed-plugin.ts";
import type { CliContext } from "../context.ts";
import { requireHandshake } from "../context.ts";
import { printJson, progress, progressLine, stderrTail, table } from "../output.ts";
import { missingPaths } from "../target.ts";

/**
 * `plugwire list`: plugins with state, version, source and what they provide. Candidates that
 * fail are named on stderr with their reason and stderr tail; a path that does not exist, or
 * directories with no working plugin, exit 1.
 */
export async function list(context: CliContext): Promise<number> {
  const missing = missingPaths(context.dirs);
  if (missing.length > 0) {
    for (const path of missing) process.stderr.write(`plugwire: ${path} does not exist\n`);
    return 1;
  }
  const sources = new Map<string, string>();
  let registry: PluginRegistry;
  if (context.config !== undefined) {
    const manager = await ServiceManager.create(context.config, { discover: false });
    registry = manager.registry;
    for (const plugin of registry.list()) sources.set(plugin.id, plugin.manifest.description);
  } else registry = new PluginRegistry();
  const name = (path: string) => relative(process.cwd(), path) || path;
  try {
    let emptyDirs = false;
    if (context.dirs.length > 0) {
      const handshake = requireHandshake(context);
      progress(`starting the plugins in ${context.dirs.join(", ")}`);
      const result = await registry
        .discover({
          paths: context.dirs,
          handshake,
          versions: context.versions,
          startTimeoutMs: context.startTimeoutMs,
          run: context.discovery,
          process: { start: { hostEnv: context.hostEnv } },
          hostVersions: context.config?.manager.hostVersions,
          supervise: { healthIntervalMs: 0 },
        })
        .finally(() => progressLine.done());
      for (const found of result.found) sources.set(found.plugin.id, name(found.path));
      for (const skipped of result.skipped) {
        const tail = stderrTail(skipped.error);
        process.stderr.write(
          `✖ ${name(skipped.path)}: ${skipped.message}\n${tail === "" ? "" : `${tail}\n`}`,
        );
      }
      emptyDirs = result.found.length === 0;
    }
    const plugins = registry.list();
    // Asked about directories that hold no working plugin: say so and fail.
    const status = emptyDirs && plugins.length === 0 ? 1 : 0;
    if (context.json) {
      printJson(plugins.map((p) => describe(p, sources.get(p.id) ?? "")));
      return status;
    }
    if (plugins.length === 0) {
      if (status === 0) process.stdout.write("no plugins found\n");
      else process.stderr.write(`plugwire: no working plugin in ${context.dirs.join(", ")}\n`);
      return status;
    }
    process.stdout.write(
      `${table(
        ["ID", "STATE", "VERSION", "SOURCE", "PROVIDES", "PROTOCOL"],
        plugins.map((p) => {
          const d = describe(p, sources.get(p.id) ?? "");
          const provides = d.provides.join(", ") || (d.protocol === "netrpc" ? "-" : "(unknown)");
          return [d.id, d.state, d.version || "-", d.source, provides, d.protocol ?? "-"];
        }),
      )}\n`,
    );
    return status;
  } finally {
    await registry.close();
  }
}

export function describe(plugin: ManagedPlugin, source: string) {
  const m = plugin.manifest;
  return {
    id: plugin.id,
    name: m.name,
    state: plugin.state.t,
    version: m.version,
    author: m.author,
    /** go-plugin's protocol it spoke when last running (`grpc`, `netrpc`); null if never run. */
    protocol: m.protocol ?? null,
    source,
    services: m.services.filter((s) => s !== "plugwire.manifest.v1.Provider"),
    providers: m.providers.map((p) => p.name),
    provides: [
      ...m.services.filter((s) => s !== "plugwire.manifest.v1.Provider"),
      ...m.providers.map((p) => `provider:${p.name}`),
    ],
    manifestOrigin: m.origin,
  };
}
