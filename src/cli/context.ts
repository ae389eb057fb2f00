import type { HostConfig } from "../config/config.ts";
import { loadConfig } from "../config/config.ts";
import type { DiscoveryRun } from "../discovery/candidates.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { HostEnvPolicy } from "../host/start/environment.ts";
import type { HandshakeConfig } from "../protocol/env.ts";

/** Options every command shares. */
export interface CommonFlags {
  config?: string;
  cookie?: string;
  protocolVersion?: string;
  timeoutMs?: string;
  json?: boolean;
  /** list, doctor: what discovery may run (`all` or `manifest`). */
  discovery?: string;
}

export interface CliContext {
  readonly config: HostConfig | undefined;
  readonly handshake: HandshakeConfig | undefined;
  readonly versions: readonly number[] | undefined;
  readonly startTimeoutMs: number;
  readonly dirs: readonly string[];
  readonly json: boolean;
  /** What discovery may run: the flag, else the config's `[manager] discovery`, else "all". */
  readonly discovery: DiscoveryRun;
  /** The config's `[manager] host_env`, for discovered plugins. */
  readonly hostEnv: HostEnvPolicy | undefined;
}

/** Resolves flags, `PLUGWIRE_COOKIE` and the config file into what commands need. */
export async function cliContext(
  flags: CommonFlags,
  dirs: readonly string[] = [],
): Promise<CliContext> {
  const configFile = flags.config ?? process.env.PLUGWIRE_CONFIG;
  const config = configFile === undefined ? undefined : await loadConfig(configFile);
  const cookie = flags.cookie ?? process.env.PLUGWIRE_COOKIE;
  let handshake = config?.manager.handshake;
  if (cookie !== undefined) {
    const eq = cookie.indexOf("=");
    if (eq <= 0)
      throw new PluginError(
        "CONFIG_INVALID",
        `--cookie must be KEY=VALUE, got ${JSON.stringify(cookie)}`,
      );
    handshake = {
      magicCookieKey: cookie.slice(0, eq),
      magicCookieValue: cookie.slice(eq + 1),
      protocolVersion: Number(flags.protocolVersion ?? 1),
    };
  }
  const discovery = flags.discovery ?? config?.manager.discovery ?? "all";
  if (discovery !== "all" && discovery !== "manifest")
    throw new UsageError(
      `--discovery must be "all" or "manifest", got ${JSON.stringify(discovery)}`,
    );
  const version = flags.protocolVersion === undefined ? undefined : Number(flags.protocolVersion);
  return {
    config,
    handshake,
    versions: version === undefined ? config?.manager.versions : [version],
    startTimeoutMs: Number(flags.timeoutMs ?? config?.manager.startTimeoutMs ?? 5000),
    dirs: dirs.length > 0 ? dirs : (config?.manager.pluginDirs ?? []),
    json: flags.json === true,
    discovery,
    hostEnv: config?.manager.hostEnv,
  };
}

/** The handshake, or a usage error saying how to give one. */
export function requireHandshake(context: CliContext): HandshakeConfig {
  if (context.handshake !== undefined) return context.handshake;
  throw new UsageError(
    "no handshake: pass --cookie KEY=VALUE (and --protocol-version N), set PLUGWIRE_COOKIE, or --config a plugwire.toml with [manager.handshake]",
  );
}

/** A mistake in how the command was invoked: exit status 2. */
export class UsageError extends Error {
  override name = "UsageError" as const;
}
