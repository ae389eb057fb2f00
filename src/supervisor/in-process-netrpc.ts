// A net/rpc plugin served in this process: go-plugin's net/rpc protocol exactly as a plugin
// process speaks it (a yamux session, Control, Dispenser, the MuxBroker, a stream per dispense),
// over an in-memory duplex pair instead of a socket.
import { duplexPair } from "node:stream";
import type { MuxBroker } from "../broker/mux-broker.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { ExitInfo } from "../host/client/exit-watch.ts";
import { notGrpcError } from "../host/client/explain-errors.ts";
import { NetRpcConnection } from "../host/client/netrpc-connection.ts";
import { dispensedClient, pingNetRpc } from "../host/client/netrpc-dispense.ts";
import type { NetRpcPlugins } from "../plugin/serve/netrpc-plugins.ts";
import { netRpcServing } from "../plugin/serve/serve-netrpc.ts";
import type { StdioCapture } from "../plugin/serve/stdio-capture.ts";
import type { Logger } from "../protocol/hclog.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import type { Connection } from "./connection.ts";

export interface InProcessNetRpcOptions {
  /** The net/rpc plugins to serve by name: `{ greeter: netrpcPlugin(Greeter, impl) }`. */
  plugins: NetRpcPlugins;
  /** Name used in errors. Default `in-process`. */
  name?: string | undefined;
  /** Protocol version reported to the host. Default 1. */
  protocolVersion?: number | undefined;
  /** Receives what the plugin side logs (a handler's failure). Default: none. */
  logger?: Logger | undefined;
}

const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * In process there is no stdout or stderr of the plugin's own to carry: its two streams stay
 * empty (the capture of a plugin process would take over this process's stdout).
 */
const noStdio = { subscribe: async function* () {} } as unknown as StdioCapture;

/**
 * Serves `plugins` in this process behind the same net/rpc client a plugin process gets: calls,
 * errors, deadlines, the handlers' `context.broker` and dispensing by name behave as across a
 * socket. `dispense(name, iface)` uses the host's declaration `iface`, as a host's own would;
 * `muxBroker` is the host's side of the MuxBroker (callbacks the plugin dials).
 */
export function connectInProcessNetRpc(
  options: InProcessNetRpcOptions,
): Connection & { readonly muxBroker: MuxBroker } {
  const name = options.name ?? "in-process";
  const { promise: exited, resolve } = Promise.withResolvers<ExitInfo>();
  let killed = false;
  const serving = netRpcServing({
    plugins: options.plugins,
    tls: undefined,
    stdio: noStdio,
    logger: options.logger ?? quiet,
    onQuit: () => void connection.kill(),
  });
  const [hostSide, pluginSide] = duplexPair();
  serving.listener.server.emit("connection", pluginSide);
  const netrpc = new NetRpcConnection({ name, socket: hostSide, logger: options.logger });
  const target = { name, launched: false, exited };
  const clients = new Map<string, unknown>();
  const connection: Connection & { readonly muxBroker: MuxBroker } = {
    muxBroker: netrpc.broker,
    info: {
      transport: "in-process",
      address: name,
      tls: false,
      protocolVersion: options.protocolVersion ?? 1,
      protocol: "netrpc",
      pid: undefined,
    },
    exited,
    client(service) {
      throw notGrpcError(name, service.typeName);
    },
    dispense<I extends NetRpcInterface>(plugin: string, iface: I): NetRpcClientOf<I> {
      let client = clients.get(plugin) as NetRpcClientOf<I> | undefined;
      if (client === undefined) {
        client = dispensedClient(plugin, iface, netrpc, target);
        clients.set(plugin, client);
      }
      return client;
    },
    ping: (ping = {}) =>
      pingNetRpc(netrpc, target, { timeoutMs: ping.timeoutMs ?? 5000, signal: ping.signal }),
    isAlive: () => !killed,
    terminate() {
      void connection.kill();
    },
    async kill() {
      if (killed) return exited.then(() => {});
      killed = true;
      await netrpc.close(
        new PluginError("CLIENT_CLOSED", "the plugin was stopped by the host", { plugin: name }),
      );
      serving.rpc.abortAll("the in-process plugin was stopped");
      await serving.listener.close();
      resolve({ code: 0, signal: null, forced: false });
    },
  };
  return connection;
}
