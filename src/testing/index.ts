// plugwire/testing: run plugin implementations in process behind the same typed client a plugin
// process gets, and start plugin scripts as real processes in tests.
import "../internal/check-node.ts";
import type { DescService } from "@bufbuild/protobuf";
import type { MuxBroker, MuxImpl } from "../broker/mux-broker.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { NetRpcPlugins } from "../plugin/serve/netrpc-plugins.ts";
import { netrpcPlugin } from "../plugin/serve/netrpc-plugins.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import type { Connection } from "../supervisor/connection.ts";
import { connectInProcess } from "../supervisor/in-process.ts";
import { connectInProcessNetRpc } from "../supervisor/in-process-netrpc.ts";
import type { ProcessSpec } from "../supervisor/launch-process.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import type { ManagedPluginOptions, ManagedPluginState } from "../supervisor/managed-plugin.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import { entryCommand } from "../discovery/package-manifest.ts";
import type { ProviderServicesOptions } from "../providers/provider-services.ts";
import { providerServices } from "../providers/provider-services.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { Client, ServiceImpl, ServiceRegistration } from "../rpc/core/types.ts";
import { implement } from "../rpc/core/types.ts";

export type { InProcessOptions } from "../supervisor/in-process.ts";
export type { InProcessNetRpcOptions } from "../supervisor/in-process-netrpc.ts";
export { connectInProcess, connectInProcessNetRpc };

/** A typed client over an implementation served in this process; dispose it to stop. */
export interface InProcessClient<S extends DescService> extends AsyncDisposable {
  readonly client: Client<S>;
  readonly connection: Connection;
  close(): Promise<void>;
}

/**
 * Runs `impl` in this process behind the same gRPC client a plugin process gets (real HTTP/2
 * framing over an in-memory pipe): encoding, deadlines, cancellation and errors as in production.
 *
 * @example
 * await using kv = inProcessClient(KV, { get: ..., put: ... });
 * await kv.client.put({ key: "a", value: new Uint8Array([1]) });
 */
export function inProcessClient<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
): InProcessClient<S> {
  const connection = connectInProcess({ services: [implement(service, impl)] });
  return {
    client: connection.client(service),
    connection,
    close: () => connection.kill(),
    [Symbol.asyncDispose]: () => connection.kill(),
  };
}

/** A net/rpc interface's typed client over an implementation in this process; dispose it to stop. */
export interface InProcessNetRpcClient<I extends NetRpcInterface> extends AsyncDisposable {
  readonly client: NetRpcClientOf<I>;
  /** The host's MuxBroker: serve callbacks the implementation dials (`context.broker`). */
  readonly muxBroker: MuxBroker;
  readonly connection: Connection;
  close(): Promise<void>;
}

/**
 * Runs a net/rpc implementation in this process behind the same client a plugin process gets:
 * go-plugin's net/rpc protocol (yamux, Dispenser, the MuxBroker) over an in-memory pipe, so
 * gob encoding, Go's error texts, deadlines and callbacks behave as in production.
 *
 * @example
 * await using greeter = inProcessNetRpcClient(Greeter, { Greet: () => "Hello!" });
 * assert.equal(await greeter.client.Greet(null), "Hello!");
 */
export function inProcessNetRpcClient<I extends NetRpcInterface>(
  iface: I,
  impl: MuxImpl<I> | ((broker: MuxBroker) => MuxImpl<I>),
): InProcessNetRpcClient<I> {
  const connection = connectInProcessNetRpc({ plugins: { plugin: netrpcPlugin(iface, impl) } });
  return {
    client: connection.dispense("plugin", iface),
    muxBroker: connection.muxBroker,
    connection,
    close: () => connection.kill(),
    [Symbol.asyncDispose]: () => connection.kill(),
  };
}

export interface InProcessPluginOptions
  extends Partial<Omit<ManagedPluginOptions, "launch" | "id">> {
  id: string;
  /** Plain typed services. */
  services?: ReadonlyArray<ServiceRegistration<DescService>> | undefined;
  /**
   * net/rpc plugins by name (`netrpcPlugin(Iface, impl)`) instead of `services` and
   * `providers`: the plugin then speaks go-plugin's net/rpc protocol (`plugin.dispense`).
   */
  netrpc?: NetRpcPlugins | undefined;
  /** Manifest and named providers, as `serveProviders` takes them (a scafctl-style mock). */
  providers?: ProviderServicesOptions["providers"];
  version?: string | undefined;
}

/**
 * A supervised plugin whose implementation runs in this process: register it in a
 * `PluginRegistry` next to real plugins, or use it as a mock provider plugin in tests.
 */
export function inProcessPlugin(options: InProcessPluginOptions): ManagedPlugin {
  const { id, services, providers, version, netrpc, ...rest } = options;
  if (netrpc !== undefined)
    return new ManagedPlugin({
      healthIntervalMs: 0,
      ...rest,
      id,
      launch: async () => connectInProcessNetRpc({ name: id, plugins: netrpc }),
    });
  const registrations = providerServices({
    manifest: { id, version },
    providers,
    services,
  });
  return new ManagedPlugin({
    healthIntervalMs: 0,
    ...rest,
    id,
    launch: async () => connectInProcess({ name: id, services: registrations }),
  });
}

export interface TestPluginOptions extends Partial<Omit<ProcessSpec, "cmd" | "handshake">> {
  handshake: HandshakeConfig;
}

/**
 * Starts a plugin script or executable as a real process (a `.ts` entry runs on this Node) and
 * returns its connection; `await using` stops it. For a net/rpc plugin give `plugins` (its
 * interfaces by name) and call `connection.dispense(name, Iface)`.
 */
export async function startTestPlugin(
  entry: string,
  options: TestPluginOptions,
): Promise<Connection & AsyncDisposable> {
  const command = entryCommand(entry, options.args ?? []);
  const connection = await launchProcess({
    startTimeoutMs: 20_000,
    ...options,
    cmd: command.cmd,
    args: command.args,
  });
  return { ...connection, [Symbol.asyncDispose]: () => connection.kill() };
}

/** Resolves when the plugin reaches state `t` (polls events, bounded by `timeoutMs`). */
export function waitForState(
  plugin: ManagedPlugin,
  t: ManagedPluginState["t"],
  timeoutMs = 10_000,
): Promise<ManagedPluginState> {
  if (plugin.state.t === t) return Promise.resolve(plugin.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      plugin.off("state", onState);
      reject(
        new PluginError(
          "DEADLINE_EXCEEDED",
          `plugin ${plugin.id} did not reach state ${t} within ${timeoutMs} ms (it is ${plugin.state.t})`,
        ),
      );
    }, timeoutMs);
    const onState = (state: ManagedPluginState) => {
      if (state.t !== t) return;
      clearTimeout(timer);
      plugin.off("state", onState);
      resolve(state);
    };
    plugin.on("state", onState);
  });
}
