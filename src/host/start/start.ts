import { fastBrokerWire, grpcBrokerWireFor } from "../../broker/wires.ts";
import type { StartMessage } from "../../internal/diagnostics.ts";
import { startChannel } from "../../internal/diagnostics.ts";
import type { Step } from "../../internal/step.ts";
import { startStep } from "../../internal/step.ts";
import { connectChannel } from "../../transport/dial.ts";
import type { NetRpcConnection } from "../client/netrpc-connection.ts";
import type { ClientParts } from "../client/plugin-client.ts";
import { PluginClient } from "../client/plugin-client.ts";
import type {
  AttachOptions,
  ClientSets,
  PluginSet,
  StartOptions,
  VersionedPlugins,
} from "../options.ts";
import { connectionCheck } from "./check.ts";
import type { AttachConfig, StartConfig } from "./config.ts";
import { attachTimeout, resolveAttach, resolveStart, startTimeout } from "./config.ts";
import type { Connection } from "./connect.ts";
import { closeConnection, connectStep, wireOf } from "./connect.ts";
import type { NetRpcTarget } from "./connect-netrpc.ts";
import { connectNetRpc, netRpcConnectionCheck } from "./connect-netrpc.ts";
import { classifyFailure, startFailure } from "./failure.ts";
import type { Negotiated } from "./handshake.ts";
import { handshakeStep } from "./handshake.ts";
import { probe } from "./reattach.ts";
import type { Started } from "./spawn.ts";
import { killStarted, spawnStep } from "./spawn.ts";

/**
 * Launches a plugin executable and connects to it, as go-plugin's `Client.Start` + `Client()`:
 * checksum, environment, spawn, handshake, AutoMTLS, connection, stdio and broker streams. One
 * deadline (`startTimeoutMs`) and the caller's `signal` bound every step; any failure kills the
 * process and rejects with a PluginError naming the plugin.
 *
 * @example
 * await using kv = await startPlugin({ cmd: "./kv-plugin", handshake, plugins: { kv: KV } });
 * await kv.dispense("kv").put({ key: "hello", value: new TextEncoder().encode("world") });
 */
export async function startPlugin<
  P extends PluginSet = PluginSet,
  V extends VersionedPlugins = Record<never, never>,
>(options: StartOptions<P, V>): Promise<PluginClient<ClientSets<P, V>>> {
  const began = performance.now();
  const config = resolveStart(options);
  using step = startStep(config.startTimeoutMs, options.signal, () => startTimeout(config));
  let started: Started;
  try {
    started = await spawnStep(config, step);
  } catch (error) {
    throw classifyFailure(error, config.name, "starting it");
  }
  let connection: Connection | undefined;
  let netrpc: NetRpcConnection | undefined;
  try {
    const negotiated = await handshakeStep(started, config, step);
    const tls = negotiated.tls !== undefined;
    // Only the connection differs by protocol: spawn, handshake and the client are shared.
    if (negotiated.handshake.protocol === "netrpc") {
      netrpc = connectNetRpc(netRpcTarget(config, negotiated));
      await netRpcConnectionCheck(netrpc, tls, started.exited, step);
    } else {
      connection = connectStep(negotiated, config);
      await connectionCheck(connection.channel, tls, started.exited, step);
    }
    const parts = clientParts(config, started, negotiated, connection, netrpc);
    const client = new PluginClient<ClientSets<P, V>>(parts, options);
    published(client, began);
    return client;
  } catch (error) {
    closeConnection(connection);
    void netrpc?.close();
    await killStarted(started, config.processGroup);
    throw startFailure(error, config.name, {
      cmd: config.cmd,
      pid: started.pid,
      tail: started.tail,
    });
  }
}

/**
 * Attaches to a plugin that is already running (go-plugin's Reattach); no process is started.
 * Something must accept a connection at its address within `attachTimeoutMs` (and before the
 * caller's `signal`).
 */
export async function attachPlugin<
  P extends PluginSet = PluginSet,
  V extends VersionedPlugins = Record<never, never>,
>(options: AttachOptions<P, V>): Promise<PluginClient<ClientSets<P, V>>> {
  const began = performance.now();
  const config = resolveAttach(options);
  using step = startStep(config.attachTimeoutMs, options.signal, () => attachTimeout(config));
  try {
    const client = await attach<ClientSets<P, V>>(config, options, step);
    published(client, began);
    return client;
  } catch (error) {
    throw classifyFailure(error, config.name, "attaching to it");
  }
}

async function attach<P extends PluginSet>(
  config: AttachConfig,
  options: AttachOptions<PluginSet, VersionedPlugins>,
  step: Step,
): Promise<PluginClient<P>> {
  const { reattach } = config;
  await probe(config.target, config.name, step);
  const target = {
    name: config.name,
    network: config.network,
    address: config.address,
    tls: undefined,
    allowRemoteTcp: config.allowRemoteTcp,
    logger: options.logger,
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
    maxSendMessageBytes: config.maxSendMessageBytes,
    framing: config.grpcFraming,
  };
  // go-plugin attaches without a handshake: the config's protocol says what to speak.
  let netrpc: NetRpcConnection | undefined;
  if (reattach.protocol === "netrpc") {
    netrpc = connectNetRpc(target);
    try {
      await netRpcConnectionCheck(netrpc, false, new Promise(() => {}), step);
    } catch (error) {
      void netrpc.close();
      throw error;
    }
  }
  return new PluginClient<P>(
    {
      name: config.name,
      channel: netrpc === undefined ? connectChannel(target) : undefined,
      netrpc,
      plugins: options.versionedPlugins?.[reattach.protocolVersion] ?? options.plugins,
      protocolVersion: reattach.protocolVersion,
      network: config.network,
      address: config.address,
      tls: false,
      pid: reattach.pid,
      test: reattach.test,
      broker: {
        network: config.network,
        env: {},
        tls: undefined,
        wire: grpcBrokerWireFor(config.grpcFraming),
      },
    },
    // A debug-mode plugin is not ours to stop at exit.
    reattach.test ? { ...options, managed: false } : options,
  );
}

/** Where and how to reach a plugin on go-plugin's net/rpc protocol. */
function netRpcTarget(config: StartConfig, { handshake, tls }: Negotiated): NetRpcTarget {
  return {
    name: config.name,
    network: handshake.network,
    address: handshake.address,
    tls,
    allowRemoteTcp: config.allowRemoteTcp,
    logger: config.logger,
    syncStdout: config.syncStdout,
    syncStderr: config.syncStderr,
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
    maxSendMessageBytes: config.maxSendMessageBytes,
  };
}

/** What the client of a started plugin is made of: its gRPC connection, or its net/rpc one. */
function clientParts(
  config: StartConfig,
  started: Started,
  { handshake, tls }: Negotiated,
  connection: Connection | undefined,
  netrpc: NetRpcConnection | undefined,
): ClientParts {
  return {
    name: config.name,
    channel: connection?.channel,
    netrpc,
    plugins: config.sets.setFor(handshake.protocolVersion),
    wire: connection === undefined ? undefined : wireOf(connection),
    protocolVersion: handshake.protocolVersion,
    network: handshake.network,
    address: handshake.address,
    tls: tls !== undefined,
    pid: started.pid,
    child: started.child,
    processDone: started.processDone,
    syncStdout: config.syncStdout,
    syncStderr: config.syncStderr,
    processGroup: config.processGroup,
    mux: connection?.t === "mux" ? connection.mux : undefined,
    broker: {
      network: handshake.network,
      env: { PLUGIN_UNIX_SOCKET_DIR: started.socketDir.path },
      tls: tls === undefined ? undefined : { identity: tls.identity, peerCertPem: tls.peerCertPem },
      maxReceiveMessageBytes: config.maxReceiveMessageBytes,
      maxSendMessageBytes: config.maxSendMessageBytes,
      // Brokered calls speak the wire the main connection agreed on.
      wire: connection?.t === "fast" ? fastBrokerWire : grpcBrokerWireFor(config.grpcFraming),
    },
  };
}

/** `plugwire:start`: a plugin is up, with the wire it negotiated. */
function published(client: PluginClient<PluginSet>, began: number): void {
  if (!startChannel.hasSubscribers) return;
  const message: StartMessage = {
    plugin: client.name,
    pid: client.pid,
    wire: client.wire,
    address: client.address,
    durationMs: performance.now() - began,
  };
  startChannel.publish(message);
}
