import { relative } from "node:path";
import type { ManagedPlugin } from "../../manager/managed-plugin.ts";
import { PluginRegistry } from "../../manager/registry.ts";
import { ServiceManager } from "../../manager/service-manager.ts";
import type { CliContext } from "../context.ts";
import { requireHandshake } from "../context.ts";
import { printJson, table } from "../output.ts";

/** `plugwire list`: plugins with state, version, source and what they provide. */
export async function list(context: CliContext): Promise<number> {
  const sources = new Map<string, string>();
  let registry: PluginRegistry;
  if (context.config !== undefined) {
    const manager = await ServiceManager.create(context.config, { discover: false });
    registry = manager.registry;
    for (const plugin of registry.list()) sources.set(plugin.id, plugin.manifest.description);
  } else registry = new PluginRegistry();
  try {
    if (context.dirs.length > 0) {
      const result = await registry.discover({
        paths: context.dirs,
        handshake: requireHandshake(context),
        versions: context.versions,
        startTimeoutMs: context.startTimeoutMs,
        supervise: { healthIntervalMs: 0 },
      });
      for (const found of result.found)
        sources.set(found.plugin.id, relative(process.cwd(), found.path) || found.path);
    }
    const plugins = registry.list();
    if (context.json) {
      printJson(plugins.map((p) => describe(p, sources.get(p.id) ?? "")));
      return 0;
    }
    if (plugins.length === 0) {
      process.stdout.write("no plugins found\n");
      return 0;
    }
    process.stdout.write(
      `${table(
        ["ID", "STATE", "VERSION", "SOURCE", "PROVIDES"],
        plugins.map((p) => {
          const d = describe(p, sources.get(p.id) ?? "");
          return [d.id, d.state, d.version || "-", d.source, d.provides.join(", ") || "(unknown)"];
        }),
      )}\n`,
    );
    return 0;
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
