// Plugins served over go-plugin's net/rpc protocol: by name, each an interface declared with
// `netrpc.define` and its implementation, dispensed to the host as `Plugin` on a stream of its own.
import type { MuxBroker } from "../../broker/mux-broker.ts";
import type { NetRpcImpl, NetRpcInterface } from "../../rpc/netrpc/define.ts";

/**
 * One net/rpc plugin (go-plugin's `plugin.Plugin` with its `Server` method): the interface and
 * what serves it. A function is called for every dispense with that connection's MuxBroker
 * (go-plugin's `Server(*MuxBroker)`), so its handlers can call back into the host
 * (`broker.client(id, Iface)`) or serve the host something (`broker.serve(Iface, impl)`).
 */
export interface NetRpcPlugin<I extends NetRpcInterface = NetRpcInterface> {
  readonly iface: I;
  readonly impl: NetRpcImpl<I> | ((broker: MuxBroker) => NetRpcImpl<I>);
}

/** Named net/rpc plugins, as go-plugin's PluginSet on the plugin side. */
export type NetRpcPlugins = Readonly<Record<string, NetRpcPlugin>>;

/**
 * A net/rpc plugin for `serve({ plugins })`, typed by its interface:
 * `netrpcPlugin(Greeter, { Greet: () => "Hello!" })`.
 */
export function netrpcPlugin<I extends NetRpcInterface>(
  iface: I,
  impl: NetRpcImpl<I> | ((broker: MuxBroker) => NetRpcImpl<I>),
): NetRpcPlugin<I> {
  return { iface, impl };
}

/** The object one dispense serves. */
export function implFor(plugin: NetRpcPlugin, broker: MuxBroker): NetRpcImpl<NetRpcInterface> {
  return typeof plugin.impl === "function" ? plugin.impl(broker) : plugin.impl;
}
