import type { HandshakeConfig } from "../protocol/env.ts";
import { Env, inheritedPluginVariables } from "../protocol/env.ts";

export interface EnvironmentOptions {
  readonly handshake: HandshakeConfig;
  readonly versions: readonly number[];
  /** Extra variables for the plugin; they win over the host's own (unlike go-plugin, §14.11). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Start from an empty environment instead of the host's. */
  readonly skipHostEnv?: boolean | undefined;
  readonly clientCertPem?: string | undefined;
  readonly multiplex?: boolean | undefined;
  /** Offer plugwire's fast wire (ignored by plugins that do not know it). */
  readonly fastWire?: boolean | undefined;
  readonly network?: "unix" | "tcp" | undefined;
  readonly unixSocketDir?: string | undefined;
  readonly unixSocketGroup?: string | undefined;
  readonly hostEnv?: NodeJS.ProcessEnv | undefined;
}

/**
 * The plugin's environment, as go-plugin builds it (client.go Start) with one deliberate change:
 * `PLUGIN_*` variables inherited from the host's own environment are removed first, because a host
 * that was itself launched as a plugin would otherwise pass on its certificate or multiplexing
 * request and break the child (go-plugin-protocol §14.9).
 */
export function pluginEnvironment(options: EnvironmentOptions): Record<string, string> {
  const result: Record<string, string> = {};
  if (options.skipHostEnv !== true) {
    for (const [key, value] of Object.entries(options.hostEnv ?? process.env)) {
      if (value !== undefined && !inheritedPluginVariables.includes(key)) result[key] = value;
    }
  }
  Object.assign(result, options.env);
  result[options.handshake.magicCookieKey] = options.handshake.magicCookieValue;
  result[Env.minPort] = "10000";
  result[Env.maxPort] = "25000";
  result[Env.protocolVersions] = options.versions.join(",");
  if (options.multiplex === true) result[Env.multiplexGrpc] = "true";
  if (options.clientCertPem !== undefined) result[Env.clientCert] = options.clientCertPem;
  if (options.unixSocketDir !== undefined) result[Env.unixSocketDir] = options.unixSocketDir;
  if (options.unixSocketGroup !== undefined) result[Env.unixSocketGroup] = options.unixSocketGroup;
  if (options.network !== undefined) result[Env.network] = options.network;
  if (options.fastWire === true) result[Env.fastWire] = "1";
  return result;
}
