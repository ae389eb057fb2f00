// Plugins served over go-plugin's net/rpc protocol: by name, each an interface declared with
// `netrpc.define` and its implementation, dispensed to the host as `Plugin` on a stream of its own.
import type { MuxBroker, MuxImpl } from "../../broker/mux-broker.ts";
import type { NetRpcImpl, NetRpcInterface } from "../../rpc/netrpc/define.ts";

/**
 * One net/rpc plugin (go-plugin's `plugin.Plugin` with its `Server` method): the interface and
 * what serves it. Handlers get the connection's MuxBroker in their context (`context.broker`),
 * to call back into the host (`broker.client(id, Iface)`) or serve it something more
 * (`broker.serve(Iface, impl)`). A function instead of an object is called for every dispense
 * with that broker, as go-plugin's `Server(*MuxBroker)`: one object per dispense.
 */
export interface NetRpcPlugin<I extends NetRpcInterface = NetRpcInterface> {
  readonly iface: I;
  readonly impl: MuxImpl<I> | ((broker: MuxBroker) => MuxImpl<I>);
}

/** Named net/rpc plugins, as go-plugin's PluginSet on the plugin side. */
export type NetRpcPlugins = Readonly<Record<string, NetRpcPlugin>>;

/**
 * A net/rpc plugin for `serve({ plugins })`, typed by its interface:
 * `netrpcPlugin(Greeter, { Greet: () => "Hello!" })`.
 */
export function netrpcPlugin<I extends NetRpcInterface>(
  iface: I,
  impl: MuxImpl<I> | ((broker: MuxBroker) => MuxImpl<I>),
): NetRpcPlugin<I> {
  return { iface, impl };
}

/** The object one dispense serves, its handlers given `broker` in their context. */
export function implFor(plugin: NetRpcPlugin, broker: MuxBroker): NetRpcImpl<NetRpcInterface> {
  const impl = typeof plugin.impl === "function" ? plugin.impl(broker) : plugin.impl;
  return broker.withBroker(impl);
}
