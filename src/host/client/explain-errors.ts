import { PluginError } from "../../errors/plugin-error.ts";
import { settlesWithin } from "../../internal/settle.ts";
import type { Interceptor } from "../../rpc/core/interceptors.ts";
import { mapErrors } from "../../rpc/core/interceptors.ts";
import type { ExitInfo } from "./exit-watch.ts";

/**
 * What a failed call, or a call that can no longer be made, means for the host: every error names
 * the plugin and says what to do. The client's channel explains through `explainErrors`; the
 * rest are the reasons the client closes its channel with.
 */

/** What explaining a call's failure needs to know about its plugin. */
export interface ExplainTarget {
  readonly name: string;
  /**
   * Whether the host launched the process. Only then is its exit seen the moment it happens; an
   * attached plugin's is polled, too late to explain a call.
   */
  readonly launched: boolean;
  /** The client's `exited`. */
  readonly exited: Promise<ExitInfo>;
}

/** How long a call that lost its connection waits to learn whether the process died. */
const exitGraceMs = 500;

/** The interceptor that explains every call's errors, whatever the call's kind. */
export function explainErrors(target: ExplainTarget): Interceptor {
  return mapErrors((error) => explain(error, target));
}

/**
 * Errors name the plugin, and a connection lost because the process died becomes PLUGIN_EXITED:
 * the socket usually reports the reset a moment before the exit is seen, so wait briefly.
 */
export async function explain(error: unknown, target: ExplainTarget): Promise<PluginError> {
  const failure = PluginError.from(error).withPlugin(target.name);
  if (failure.code !== "UNAVAILABLE" || !target.launched) return failure;
  if (!(await settlesWithin(target.exited, exitGraceMs))) return failure;
  const { code, signal } = await target.exited;
  return new PluginError(
    "PLUGIN_EXITED",
    `the plugin process exited (${how(code, signal)}) during the call; ` +
      "check its logs. A supervisor can restart it.",
    { plugin: target.name, cause: failure, details: { code, signal } },
  );
}

/** Calls in flight when a launched plugin died by itself. */
export function crashedError(
  plugin: string,
  code: number | null,
  signal: NodeJS.Signals | null,
): PluginError {
  return new PluginError(
    "PLUGIN_EXITED",
    `the plugin process exited (${how(code, signal)})` +
      " unexpectedly; calls in flight were lost. Check its logs above; a supervisor can restart it.",
    { plugin, details: { code, signal } },
  );
}

/** Calls after an attached plugin's pid is gone. */
export function goneError(plugin: string): PluginError {
  return new PluginError("PLUGIN_EXITED", "the plugin process is gone", { plugin });
}

/** Brokered servers and connections once the plugin has exited. */
export function brokerExitedError(plugin: string): PluginError {
  return new PluginError("PLUGIN_EXITED", "the plugin exited", { plugin });
}

/** Calls after `kill()`. */
export function stoppedError(plugin: string): PluginError {
  return new PluginError("CLIENT_CLOSED", "the plugin was stopped by the host", { plugin });
}

/** Calls after `kill()` of a plugin in debug mode, which the host leaves running. */
export function detachedError(plugin: string): PluginError {
  return new PluginError("CLIENT_CLOSED", "the host detached from the plugin", { plugin });
}

/** The broker once its stream ended while stopping, or on a plugin without go-plugin's broker. */
export function brokerStreamEndedError(
  plugin: string,
  cause: PluginError | undefined,
): PluginError {
  return new PluginError("CLIENT_CLOSED", "the broker stream ended", { plugin, cause });
}

/** Calls and the broker once the connection dropped while the process kept running. */
export function connectionLostError(plugin: string, cause: PluginError | undefined): PluginError {
  return new PluginError(
    "CLIENT_CLOSED",
    "the connection to the plugin was lost while its process kept running; its broker and " +
      "stdio streams belonged to that connection and cannot be reopened (go-plugin ties them " +
      "to it), so the client is closed and the plugin stopped. A supervisor can restart it.",
    { plugin, cause, details: { connectionLost: true } },
  );
}

/** `dispense()` of a name that is not in the negotiated version's plugin set. */
export function unknownPluginError(
  plugin: string,
  name: string,
  plugins: Readonly<Record<string, unknown>> | undefined,
): PluginError {
  const known = Object.keys(plugins ?? {}).join(", ") || "none";
  return new PluginError("SERVICE_UNKNOWN", `unknown plugin type: ${name} (known: ${known})`, {
    plugin,
  });
}

/** `client(service)` of a plugin that speaks net/rpc. */
export function notGrpcError(plugin: string, service: string): PluginError {
  return new PluginError(
    "PROTOCOL_UNSUPPORTED",
    `${service} is a gRPC service, but the plugin speaks go-plugin's net/rpc protocol: dispense its net/rpc interfaces instead`,
    { plugin },
  );
}

/** `dispense()` of a net/rpc interface from a plugin that speaks gRPC. */
export function notNetRpcError(plugin: string, name: string): PluginError {
  return new PluginError(
    "PROTOCOL_UNSUPPORTED",
    `${name} is a net/rpc interface, but the plugin speaks gRPC: declare it as a gRPC service`,
    { plugin },
  );
}

function how(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit status ${code}` : `signal ${signal}`;
}
