import { PluginError } from "../errors/plugin-error.ts";
import type { Step } from "../internal/step.ts";
import { checkStep, remainingMs } from "../internal/step.ts";
import type { PluginManifest } from "../providers/manifest.ts";
import { fetchManifest } from "../providers/manifest.ts";
import type { Connection } from "./connection.ts";

export interface StartAttemptOptions {
  /** Starts the plugin; must honour the signal it is given. */
  readonly launch: (signal: AbortSignal) => Promise<Connection>;
  /** Ask the running plugin for its manifest. */
  readonly fetchManifest: boolean;
  /** Time allowed for the manifest call. */
  readonly manifestTimeoutMs: number;
}

/** A plugin that started and described itself. */
export interface Started {
  readonly connection: Connection;
  readonly manifest: PluginManifest;
}

/**
 * One start of a supervised plugin, bounded by `step`: launch it, then ask it for its manifest
 * (what it says is merged over `known`). A plugin that started but cannot describe itself is
 * killed, so a failed attempt leaves nothing running. Failures name the plugin.
 */
export async function attemptStart(
  plugin: string,
  options: StartAttemptOptions,
  known: PluginManifest,
  step: Step,
): Promise<Started> {
  let connection: Connection;
  try {
    connection = await options.launch(step.signal);
  } catch (error) {
    throw PluginError.from(error).withPlugin(plugin);
  }
  if (!options.fetchManifest)
    return { connection, manifest: { ...known, protocol: connection.info.protocol } };
  try {
    checkStep(step);
    const timeoutMs = Math.min(options.manifestTimeoutMs, remainingMs(step));
    const manifest = await fetchManifest(connection, known, timeoutMs, step.signal);
    return { connection, manifest };
  } catch (error) {
    await connection.kill();
    throw PluginError.from(error).withPlugin(plugin);
  }
}
