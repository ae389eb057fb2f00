// The connect step: the channel to the address the plugin announced, over the wire the handshake
// negotiated (gRPC, plugwire's fast wire, or gRPC over one multiplexed yamux connection).
import { asConnection, MuxRouter } from "../../broker/mux-transport.ts";
import { YamuxSession } from "../../mux/session.ts";
import type { Channel } from "../../rpc/core/types.ts";
import { FastChannel } from "../../rpc/fast/channel.ts";
import { fastWireAlpn } from "../../rpc/fast/frames.ts";
import { connectChannel, dialer, grpcChannel, secureClient } from "../../transport/dial.ts";
import type { StartConfig } from "./config.ts";
import type { Negotiated } from "./handshake.ts";

/** The plugin's main connection, by wire; `mux` only in multiplexed mode. */
export type Connection =
  | { readonly t: "grpc"; readonly channel: Channel }
  | { readonly t: "fast"; readonly channel: Channel }
  | { readonly t: "mux"; readonly channel: Channel; readonly mux: MuxRouter };

/**
 * Opens the channel; the address is checked before anything is dialled (HANDSHAKE_INVALID for one
 * the host must not dial). Connections are made lazily, except the multiplexed one: a Go plugin
 * gives up on it after 5 s, so it is dialled now.
 */
export function connectStep(negotiated: Negotiated, config: StartConfig): Connection {
  const { handshake, tls } = negotiated;
  const target = {
    network: handshake.network,
    address: handshake.address,
    tls,
    allowRemoteTcp: config.allowRemoteTcp,
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
    maxSendMessageBytes: config.maxSendMessageBytes,
    framing: config.grpcFraming,
  };
  if (config.multiplex) {
    // One connection carrying every stream; TLS runs inside each stream, not around the session.
    const mux = new MuxRouter(
      new YamuxSession(dialer({ ...target, tls: undefined })(), { role: "client" }),
      undefined,
    );
    const session = mux.session;
    const channel = grpcChannel(
      {
        // A yamux stream ends as a connection does (see asConnection), as brokered ones do.
        connect: () => {
          const stream = asConnection(session.open());
          return tls === undefined ? stream : secureClient(tls, { socket: stream });
        },
        tls: tls !== undefined,
        maxReceiveMessageBytes: config.maxReceiveMessageBytes,
        maxSendMessageBytes: config.maxSendMessageBytes,
      },
      config.grpcFraming,
    );
    return { t: "mux", channel, mux };
  }
  if (handshake.fastWire === true) {
    const channel = new FastChannel({
      connect: dialer(target, fastWireAlpn),
      maxReceiveMessageBytes: config.maxReceiveMessageBytes,
      maxSendMessageBytes: config.maxSendMessageBytes,
    });
    return { t: "fast", channel };
  }
  return { t: "grpc", channel: connectChannel(target) };
}

/** The wire the calls use, as `PluginClient.wire` and `plugwire:start` name it. */
export function wireOf(connection: Connection): "grpc" | "fast" {
  return connection.t === "fast" ? "fast" : "grpc";
}

/** Closes what a failed start opened. */
export function closeConnection(connection: Connection | undefined): void {
  connection?.channel.close();
  if (connection?.t === "mux") void connection.mux.session.close();
}
