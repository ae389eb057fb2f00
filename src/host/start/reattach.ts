import { connect as netConnect } from "node:net";
import { PluginError } from "../../errors/plugin-error.ts";
import type { Step } from "../../internal/step.ts";
import { stepError } from "../../internal/step.ts";
import type { DialTarget } from "../../transport/address.ts";
import type { ReattachConfig } from "../options.ts";

export type { ReattachConfig } from "../options.ts";

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
    // As go-plugin: no protocol (or an empty one) is net/rpc.
    const protocol = raw.Protocol === undefined || raw.Protocol === "" ? "netrpc" : raw.Protocol;
    if (protocol !== "grpc" && protocol !== "netrpc") {
      throw new PluginError(
        "PROTOCOL_UNSUPPORTED",
        `reattach config for ${name}: protocol ${JSON.stringify(protocol)} is not one of go-plugin's ("grpc", "netrpc")`,
      );
    }
    out[name] = {
      protocol,
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

/** A dial target as a person reads it: `unix:/path`, `tcp:127.0.0.1:1234`, `tcp:[::1]:1234`. */
export function where(target: DialTarget): string {
  if ("path" in target) return `unix:${target.path}`;
  return target.host.includes(":")
    ? `tcp:[${target.host}]:${target.port}`
    : `tcp:${target.host}:${target.port}`;
}

/**
 * Proves something listens at a reattach address before a client is made for it: one connection,
 * closed at once. Nothing listening is REATTACH_NOT_FOUND; the step's signal ends the wait (a
 * stopped plugin's full backlog never answers) with the step's error, the socket destroyed.
 */
export function probe(target: DialTarget, name: string, step: Step): Promise<void> {
  if (step.signal.aborted) return Promise.reject(stepError(step.signal, "attach").withPlugin(name));
  return new Promise((resolve, reject) => {
    const socket = netConnect(target as never);
    socket.on("error", () => {}); // one error settles the probe; none may crash the host after it
    let settled = false;
    const settle = (error?: PluginError) => {
      if (settled) return;
      settled = true;
      step.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => settle(stepError(step.signal, "attach").withPlugin(name));
    step.signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => settle());
    socket.once("error", (error) =>
      settle(
        new PluginError(
          "REATTACH_NOT_FOUND",
          `reattachment process not found: nothing listens at ${where(target)} (${error.message})`,
          { plugin: name, cause: error },
        ),
      ),
    );
  });
}
