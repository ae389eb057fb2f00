// Typed clients of net/rpc plugins. go-plugin's Dispense is a round trip (Dispenser.Dispense,
// then a MuxBroker stream); here `dispense()` returns the typed client at once and the first
// call makes that round trip, so host code reads as for gRPC plugins:
// `client.dispense("greeter").Greet(null)`.
import type { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { NetRpcCallOptions } from "../../rpc/netrpc/client.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../../rpc/netrpc/define.ts";
import type { ExplainTarget } from "./explain-errors.ts";
import { explain } from "./explain-errors.ts";
import type { NetRpcConnection } from "./netrpc-connection.ts";

/**
 * The typed client of plugin `name` (`iface`, served as `Plugin` on its stream). Every call's
 * error is explained as a gRPC call's is: one that failed because the connection ended is the
 * reason the host ended it (the plugin crashed: PLUGIN_EXITED; it was stopped: CLIENT_CLOSED),
 * or PLUGIN_EXITED when the process turns out to have died; the plugin's own error (NETRPC_ERROR)
 * and the caller's deadline or cancel pass as they are.
 */
export function dispensedClient<I extends NetRpcInterface>(
  name: string,
  iface: I,
  connection: NetRpcConnection,
  target: ExplainTarget,
): NetRpcClientOf<I> {
  const methods: Record<string, unknown> = {};
  for (const [method, types] of Object.entries(iface.methods)) {
    const serviceMethod = `Plugin.${method}`;
    methods[method] = async (args: unknown, options?: NetRpcCallOptions) => {
      try {
        const client = await connection.dispense(name, options);
        return await client.call(serviceMethod, types.args, args, types.reply, options);
      } catch (error) {
        throw await explainNetRpc(error, connection, target);
      }
    };
  }
  return Object.freeze(methods) as NetRpcClientOf<I>;
}

/** `Control.Ping`, its failure explained as a call's. */
export async function pingNetRpc(
  connection: NetRpcConnection,
  target: ExplainTarget,
  options: NetRpcCallOptions,
): Promise<void> {
  try {
    await connection.ping(options);
  } catch (error) {
    throw await explainNetRpc(error, connection, target);
  }
}

/** A net/rpc call's failure, as the host reports it (see `dispensedClient`). */
export async function explainNetRpc(
  error: unknown,
  connection: NetRpcConnection,
  target: ExplainTarget,
): Promise<PluginError> {
  const failure = PluginError.from(error);
  const lost = failure.code === "UNAVAILABLE" || failure.code === "CLIENT_CLOSED";
  // The connection usually drops a moment before the exit is seen: `explain` waits for it, and
  // by then the host has said why it closed the connection (a crash, or its own stop).
  const explained =
    lost && connection.closedReason === undefined ? await explain(failure, target) : failure;
  const reason = connection.closedReason;
  if (lost && reason !== undefined) return reason.withPlugin(target.name);
  return explained.withPlugin(target.name);
}

/**
 * A net/rpc connection's side of the client: the gRPC broker has nothing to reach there
 * (`muxBroker` is its broker), and the session ending while nobody closed it is a lost
 * connection (`lost`).
 */
export function watchNetRpc(
  connection: NetRpcConnection,
  grpcBroker: Broker,
  lost: (failure: PluginError | undefined) => void,
): void {
  void grpcBroker.close(
    new PluginError(
      "PROTOCOL_UNSUPPORTED",
      "the plugin speaks go-plugin's net/rpc protocol, which has no gRPC broker: use `muxBroker`",
    ),
  );
  void connection.session.closed.then((failure) => {
    if (connection.closedReason === undefined) lost(failure);
  });
}
