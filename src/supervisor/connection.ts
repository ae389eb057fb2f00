import type { DescService } from "@bufbuild/protobuf";
import type { ExitInfo, PluginClient } from "../host/client/plugin-client.ts";
import type { PluginSet } from "../host/options.ts";
import { processAlive } from "../platform/process.ts";
import type { Client } from "../rpc/core/types.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";

/** How a connection reaches its plugin. */
export interface ConnectionInfo {
  /** `unix` or `tcp` for a plugin process, `in-process` for an implementation in this process. */
  readonly transport: "unix" | "tcp" | "in-process";
  readonly address: string;
  readonly tls: boolean;
  /** The application protocol version both sides agreed on. */
  readonly protocolVersion: number;
  /** go-plugin's protocol the plugin speaks: `grpc`, or `netrpc` (its net/rpc interfaces). */
  readonly protocol: "grpc" | "netrpc";
  /** The plugin's process id; undefined in process. */
  readonly pid: number | undefined;
}

/**
 * One live connection to a plugin, whatever runs it: a process started by `startPlugin` or an
 * implementation served in this process. The supervisor only ever sees this shape, which is why
 * host code cannot tell an in-process driver from a plugin executable.
 */
export interface Connection {
  readonly info: ConnectionInfo;
  /** Settles once when the plugin is gone (exit, crash or kill); never rejects. */
  readonly exited: Promise<ExitInfo>;
  client<S extends DescService>(service: S): Client<S>;
  /**
   * The typed client of net/rpc plugin `name` (go-plugin's Dispense). The connection dispenses
   * the interface it was started with under that name (`iface` types the result); a gRPC plugin
   * refuses with PROTOCOL_UNSUPPORTED, a name it was not started with with SERVICE_UNKNOWN.
   */
  dispense<I extends NetRpcInterface>(name: string, iface: I): NetRpcClientOf<I>;
  /** Health check; rejects when the plugin does not answer in time. */
  ping(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /** Stops the plugin (gracefully, then by force); resolves when it is gone. Idempotent. */
  kill(): Promise<void>;
  /** False once the plugin is known to be gone (checked before each call, ahead of `exited`). */
  isAlive(): boolean;
  /** Kills a hung plugin at once (SIGKILL to its process group), without a graceful shutdown. */
  terminate(): void;
}

/** A connection over a launched (or attached) plugin process. */
export function processConnection(client: PluginClient<PluginSet>): Connection {
  return {
    info: {
      transport: client.network,
      address: client.address,
      tls: client.tls,
      protocolVersion: client.negotiatedVersion,
      protocol: client.protocol,
      pid: client.pid,
    },
    exited: client.exited,
    client: (service) => client.client(service),
    dispense: <I extends NetRpcInterface>(name: string) =>
      client.dispense(name) as NetRpcClientOf<I>,
    ping: (options) => client.ping(options),
    kill: () => client.kill(),
    // The process is reaped (and its calls failed) a moment before `exited` settles, which also
    // waits for its pipes to drain; a signal-0 probe sees the death at once.
    isAlive: () => client.state.t !== "exited" && processAlive(client.pid),
    terminate: () => void client.terminate(),
  };
}
