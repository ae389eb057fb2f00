import type { HandshakeConfig } from "../../protocol/env.ts";
import { Env, inheritedPluginVariables } from "../../protocol/env.ts";
import type { HostEnvPolicy } from "../options.ts";

export type { HostEnvPolicy } from "../options.ts";

export interface EnvironmentOptions {
  readonly handshake: HandshakeConfig;
  readonly versions: readonly number[];
  /** Extra variables for the plugin; they win over the host's own (unlike go-plugin, §14.11). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Which host variables pass on. Default `"all"`. */
  readonly hostEnv?: HostEnvPolicy | undefined;
  /** Start from an empty environment instead of the host's: the same as `hostEnv: "none"`. */
  readonly skipHostEnv?: boolean | undefined;
  readonly clientCertPem?: string | undefined;
  readonly multiplex?: boolean | undefined;
  /** Offer plugwire's fast wire (ignored by plugins that do not know it). */
  readonly fastWire?: boolean | undefined;
  readonly network?: "unix" | "tcp" | undefined;
  readonly unixSocketDir?: string | undefined;
  readonly unixSocketGroup?: string | undefined;
  /** The host's environment. Default `process.env` (tests pass their own). */
  readonly processEnv?: NodeJS.ProcessEnv | undefined;
}

/**
 * The plugin's environment, as go-plugin builds it (client.go Start) with two deliberate changes:
 * `PLUGIN_*` variables inherited from the host's own environment are removed first, because a host
 * that was itself launched as a plugin would otherwise pass on its certificate or multiplexing
 * request and break the child (go-plugin-protocol §14.9); and `hostEnv` can narrow what of the
 * host's environment passes on at all. The caller's `env` and the protocol's variables are always
 * set, whatever the policy.
 */
export function pluginEnvironment(options: EnvironmentOptions): Record<string, string> {
  const result: Record<string, string> = {};
  const allowed = hostEnvFilter(options.skipHostEnv === true ? "none" : options.hostEnv);
  for (const [key, value] of Object.entries(options.processEnv ?? process.env)) {
    if (value !== undefined && !inheritedPluginVariables.includes(key) && allowed(key))
      result[key] = value;
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

const pattern = /^[A-Za-z_][A-Za-z0-9_]*\*?$|^\*$/;

/**
 * Checks a `hostEnv` value and returns the test it stands for. Throws a TypeError naming the
 * first bad entry, so a typo (`"AWS*_KEY"`, `"PATH "`) fails at start instead of silently passing
 * nothing.
 */
export function hostEnvFilter(policy: HostEnvPolicy | undefined): (name: string) => boolean {
  if (policy === undefined || policy === "all") return () => true;
  if (policy === "none") return () => false;
  if (!Array.isArray(policy))
    throw new TypeError(
      `Expected the \`hostEnv\` option to be "all", "none" or an array of variable names, got \`${String(policy)}\` (${typeof policy})`,
    );
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of policy as readonly unknown[]) {
    if (typeof entry !== "string" || !pattern.test(entry))
      throw new TypeError(
        `Expected each \`hostEnv\` entry to be a variable name or a \`PREFIX_*\` pattern, got \`${String(entry)}\` (${typeof entry})`,
      );
    if (entry.endsWith("*")) prefixes.push(entry.slice(0, -1));
    else names.add(entry);
  }
  return (name) => names.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
}
