import type { ChildProcess } from "node:child_process";
import type { BrokerOptions } from "../../broker/broker.ts";
import type { MuxRouter } from "../../broker/mux-transport.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Channel } from "../../rpc/core/types.ts";
import type { PluginSet } from "../options.ts";
import type { NetRpcConnection } from "./netrpc-connection.ts";

/** What the launcher hands to a client once the handshake is done and the channel is up. */
export interface ClientParts {
  readonly name: string;
  /** The gRPC (or fast wire) channel; undefined on go-plugin's net/rpc protocol. */
  readonly channel?: Channel | undefined;
  /** go-plugin's net/rpc protocol: the connection's session, control client and MuxBroker. */
  readonly netrpc?: NetRpcConnection | undefined;
  /** The plugin set of the negotiated version (default: the options' `plugins`). */
  readonly plugins?: PluginSet | undefined;
  /** The wire the main connection speaks: gRPC, or plugwire's fast wire (docs/fast-wire.md). */
  readonly wire?: "grpc" | "fast" | undefined;
  readonly protocolVersion: number;
  readonly network: Network;
  readonly address: string;
  readonly tls: boolean;
  readonly pid: number;
  readonly child?: ChildProcess | undefined;
  /** Settles when the process has exited and its pipes are drained (launched plugins). */
  readonly processDone?: Promise<void> | undefined;
  readonly test?: boolean | undefined;
  readonly syncStdout?: NodeJS.WritableStream | undefined;
  readonly syncStderr?: NodeJS.WritableStream | undefined;
  readonly processGroup?: boolean | undefined;
  /** Multiplexed mode: the connection's yamux session and stream routing. */
  readonly mux?: MuxRouter | undefined;
  /** Where and how this side serves brokered connections. */
  readonly broker: Omit<BrokerOptions, "name" | "logger">;
}
