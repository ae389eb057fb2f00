import type { Server } from "node:net";
import type { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import type { ConnInfo } from "../gen/plugin/grpc_broker_pb.js";
import { ConnInfoSchema } from "../gen/plugin/grpc_broker_pb.js";
import type { Network } from "../protocol/handshake-line.ts";
import type { ClientTls } from "../transport/dial.ts";
import { dialer } from "../transport/dial.ts";
import { listen } from "../transport/listen.ts";
import type { OnRead } from "./chunk-reader.ts";

/** What the broker needs from the connection it runs on: how brokered connections are made. */
export interface BrokerTransport {
  /**
   * Makes `server` (an HTTP/2, TLS or plain net server; TLS is its business) receive the
   * connections the peer makes to `id`, announcing `id` as the mode requires. Returns a cleanup.
   */
  accept(id: number, server: Server): Promise<() => void>;
  /**
   * A function that opens a raw connection (TLS not yet applied) to what the peer serves under
   * `id`, waiting for the peer's announcement. `reconnects` tells whether it may be called again.
   * `connect(onread)` makes a plain socket read into the caller's buffer; a stream that is not a
   * socket of its own (multiplexed mode) ignores it. `secure`, where there is a socket of its own,
   * opens one with TLS applied whose plaintext `onread` receives (TLS over `connect()` cannot).
   */
  dial(
    id: number,
    options: DialOptions,
  ): Promise<{
    connect: (onread?: OnRead) => Duplex;
    secure?: (tls: ClientTls, alpn: string, onread?: OnRead) => Duplex;
    reconnects: boolean;
  }>;
  /** A knock from the peer (multiplexed mode); ignored by the socket transport. */
  knock(info: ConnInfo): void;
}

export interface DialOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Sends a message on the broker stream. */
export type Send = (info: ConnInfo) => void;
/** Waits for the peer's message for an id (connection info, or a knock's ack). */
export type Take = (id: number, options: DialOptions) => Promise<ConnInfo>;

/**
 * go-plugin's default mode (§5.3): every brokered server gets a new listener like the main one,
 * and its address is sent as ConnInfo; the dialing side connects to that address.
 */
export function socketTransport(
  network: Network,
  env: NodeJS.ProcessEnv,
  send: Send,
  take: Take,
): BrokerTransport {
  return {
    async accept(id, server) {
      const bound = await listen(server, { network, env });
      send(
        create(ConnInfoSchema, { serviceId: id, network: bound.network, address: bound.address }),
      );
      return bound.cleanup;
    },
    async dial(id, options) {
      const info = await take(id, options);
      const target = { network: info.network as Network, address: info.address };
      return {
        connect: dialer(target),
        secure: (tls, alpn, onread) => dialer({ ...target, tls }, alpn)(onread),
        reconnects: true,
      };
    },
    knock() {},
  };
}
