import { PluginError } from "../../errors/plugin-error.ts";
import type { Network } from "../../protocol/handshake-line.ts";

/** Where a running plugin can be reached (go-plugin's ReattachConfig). */
export interface ReattachConfig {
  readonly protocol: "grpc";
  readonly protocolVersion: number;
  readonly addr: { readonly network: Network; readonly address: string };
  readonly pid: number;
  /** A plugin in debug/test mode: the host never stops it. */
  readonly test: boolean;
}

/** The JSON shape Terraform's TF_REATTACH_PROVIDERS uses, which plugwire's debug mode prints. */
interface ReattachJson {
  Protocol?: string;
  ProtocolVersion?: number;
  Pid?: number;
  Test?: boolean;
  Addr?: { Network?: string; String?: string };
}

/**
 * Parses a `TF_REATTACH_PROVIDERS`-shaped JSON object (name → config), e.g. the value printed by
 * a plugin started with `serve({ debug })`.
 */
export function parseReattachConfigs(json: string): Record<string, ReattachConfig> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new PluginError(
      "CONFIG_INVALID",
      `reattach config is not JSON: ${(error as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null)
    throw new PluginError("CONFIG_INVALID", "reattach config must be a JSON object");
  const out: Record<string, ReattachConfig> = {};
  for (const [name, raw] of Object.entries(value as Record<string, ReattachJson>)) {
    const network = raw.Addr?.Network;
    if (network !== "unix" && network !== "tcp") {
      throw new PluginError(
        "CONFIG_INVALID",
        `reattach config for ${name}: Addr.Network must be "unix" or "tcp", got ${JSON.stringify(network)}`,
      );
    }
    if ((raw.Protocol ?? "netrpc") !== "grpc") {
      throw new PluginError(
        "PROTOCOL_UNSUPPORTED",
        `reattach config for ${name}: protocol ${JSON.stringify(raw.Protocol ?? "netrpc")} is not supported; plugwire speaks grpc`,
      );
    }
    out[name] = {
      protocol: "grpc",
      protocolVersion: raw.ProtocolVersion ?? 0,
      addr: { network, address: raw.Addr?.String ?? "" },
      pid: raw.Pid ?? 0,
      test: raw.Test ?? false,
    };
  }
  return out;
}

/** The TF_REATTACH_PROVIDERS-shaped JSON for one config. */
export function formatReattachConfig(name: string, config: ReattachConfig): string {
  return JSON.stringify({
    [name]: {
      Protocol: config.protocol,
      ProtocolVersion: config.protocolVersion,
      Pid: config.pid,
      Test: config.test,
      Addr: { Network: config.addr.network, String: config.addr.address },
    },
  });
}

/** Whether a process exists (signal 0); EPERM means it exists but is not ours. */
export function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
