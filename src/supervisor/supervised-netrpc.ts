import type { NetRpcCallOptions } from "../rpc/netrpc/client.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import type { ReadyFn } from "./supervised-channel.ts";
import { timeLeft } from "./supervised-channel.ts";

type Method = (args: unknown, options?: NetRpcCallOptions) => Promise<unknown>;

/**
 * The typed client of a supervised plugin's net/rpc plugin `name`: as the gRPC clients of
 * `supervisedChannel`, each call waits for the running connection (its wait counts against the
 * call's `timeoutMs`) and is made on that connection's own dispensed client, so it fails as
 * calls on that connection do (PLUGIN_EXITED when the plugin dies under it) and a restart
 * dispenses afresh.
 */
export function supervisedNetRpc<I extends NetRpcInterface>(
  name: string,
  iface: I,
  ready: ReadyFn,
): NetRpcClientOf<I> {
  const methods: Record<string, Method> = {};
  for (const method of Object.keys(iface.methods)) {
    methods[method] = async (args, options) => {
      const started = performance.now();
      const connection = await ready(options?.timeoutMs, options?.signal);
      const client = connection.dispense(name, iface) as unknown as Record<string, Method>;
      return client[method]!(args, timeLeft(options, started));
    };
  }
  return Object.freeze(methods) as NetRpcClientOf<I>;
}
