import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ServiceManager } from "../config/service-manager.ts";
import { classify } from "../discovery/candidates.ts";
import { candidateSpec } from "../discovery/discovery.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { fetchManifest } from "../providers/manifest.ts";
import type { NetRpcInterface } from "../rpc/netrpc/define.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import type { CliContext } from "./context.ts";
import { requireHandshake } from "./context.ts";

/**
 * The plugin a command acts on: a configured service or discovered id (with --config), else a
 * path to an executable or a package folder. Started and described. `netrpc` names a net/rpc
 * plugin to start it with (the plugin must then speak go-plugin's net/rpc protocol).
 */
export async function openTarget(
  target: string,
  context: CliContext,
  netrpc?: Readonly<Record<string, NetRpcInterface>>,
): Promise<{ plugin: ManagedPlugin; close: () => Promise<void> }> {
  if (context.config !== undefined) {
    const manager = await ServiceManager.create(context.config, { onProgress: undefined, netrpc });
    const plugin = manager.registry.get(target);
    if (plugin !== undefined) {
      await plugin.start();
      return { plugin, close: () => manager.close() };
    }
    await manager.close();
  }
  const path = resolve(target);
  if (!existsSync(path))
    throw new PluginError(
      "NOT_A_PLUGIN",
      `${target} does not exist: no file or folder at ${path}` +
        (context.config === undefined
          ? ""
          : `, and no service or plugin of ${context.config.file} is called ${JSON.stringify(target)}`),
    );
  const candidate = await classify(path);
  if (candidate.kind === "skip")
    throw new PluginError("NOT_A_PLUGIN", `${target}: ${candidate.message}`);
  const { spec, manifest } = await candidateSpec(candidate, {
    handshake: requireHandshake(context),
    versions: context.versions,
    startTimeoutMs: context.startTimeoutMs,
    process: { plugins: netrpc },
  });
  const connection = await launchProcess(spec);
  const plugin = new ManagedPlugin({
    id: manifest.id,
    manifest: await fetchManifest(connection, manifest, context.startTimeoutMs),
    launch: (signal) => launchProcess(spec, signal),
    healthIntervalMs: 0,
    autoRestart: false,
  });
  plugin.adopt(connection, plugin.manifest);
  return { plugin, close: () => plugin.close() };
}

/** The paths among `paths` (not globs) that do not exist. */
export function missingPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => !/[*?[{]/.test(p) && !existsSync(p));
}
