import { PluginError } from "../../errors/plugin-error.ts";
import type { NetRpcCallOptions, NetRpcClient } from "./client.ts";
import type { NetRpcClientOf, NetRpcInterface } from "./define.ts";

/**
 * The typed client of `iface` served as `service` (go-plugin serves a plugin as `Plugin`):
 * `kv.Get("key")` is `client.call("Plugin.Get", …)` with the declared types, so a value that does
 * not fit is refused (GOB_TYPE) before anything is written.
 */
export function netrpcClient<I extends NetRpcInterface>(
  client: NetRpcClient,
  service: string,
  iface: I,
): NetRpcClientOf<I> {
  if (service === "") {
    throw new PluginError(
      "CONFIG_INVALID",
      "netrpcClient needs the service name the server registered (go-plugin's is `Plugin`)",
    );
  }
  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(iface.methods)) {
    const serviceMethod = `${service}.${name}`;
    methods[name] = (args: unknown, options?: NetRpcCallOptions) =>
      client.call(serviceMethod, method.args, args, method.reply, options);
  }
  return Object.freeze(methods) as NetRpcClientOf<I>;
}
