import type { Server } from "node:net";
import type { Duplex } from "node:stream";
import type { Channel } from "../rpc/core/types.ts";
import { FastChannel } from "../rpc/fast/channel.ts";
import { fastWireAlpn } from "../rpc/fast/frames.ts";
import { RpcChannel } from "../rpc/grpc/channel.ts";
import type { RpcServer } from "../rpc/grpc/server.ts";
import { H2Channel } from "../rpc/h2/client.ts";
import type { GrpcFraming } from "../rpc/h2/framing-option.ts";
import { resolveGrpcFraming } from "../rpc/h2/framing-option.ts";
import type { ServerTls } from "../transport/auto-mtls-server.ts";
import { createDualListener } from "../transport/dual-listener.ts";
import { createGrpcServer } from "../transport/http2-server.ts";

/** What a brokered channel is opened with. */
export interface BrokerChannelOptions {
  /** Opens a connection to the peer's brokered server, TLS applied. */
  readonly connect: () => Duplex;
  readonly tls: boolean;
  readonly maxReceiveMessageBytes?: number | undefined;
  readonly maxSendMessageBytes?: number | undefined;
}

/**
 * How brokered connections carry calls: the factories of one wire. The broker speaks the wire
 * of the connection it runs on, so two plugwire peers that agreed on the fast wire broker over
 * it too, and a go-plugin peer gets gRPC.
 */
export interface BrokerWire {
  readonly name: "grpc" | "fast";
  /** The protocol asked for under AutoMTLS (ALPN). */
  readonly alpn: string;
  /** A client channel to a service the peer serves through the broker. */
  channel(options: BrokerChannelOptions): Channel;
  /** A server for brokered services: the listener to hand to the broker's transport. */
  server(
    rpc: RpcServer,
    tls: ServerTls | undefined,
    onTlsError?: (error: Error) => void,
  ): { readonly server: Server; close(graceMs?: number): Promise<void> };
}

/**
 * gRPC over HTTP/2, what every go-plugin peer speaks, on the process's default framing
 * (PLUGWIRE_GRPC_FRAMING, else plugwire's own HTTP/2), read when a channel or server is made.
 */
export const grpcBrokerWire: BrokerWire = {
  name: "grpc",
  alpn: "h2",
  channel: (options) => grpcBrokerWireFor(resolveGrpcFraming()).channel(options),
  server: (rpc, tls, onTlsError) => createGrpcServer(rpc, tls, onTlsError),
};

/** gRPC on plugwire's own HTTP/2 framing (docs/transport.md). */
export const h2BrokerWire: BrokerWire = {
  name: "grpc",
  alpn: "h2",
  channel: (options) => new H2Channel(options),
  server: (rpc, tls, onTlsError) => createGrpcServer(rpc, tls, onTlsError, "h2"),
};

/** gRPC on Node's `node:http2`. */
export const nodeHttp2BrokerWire: BrokerWire = {
  name: "grpc",
  alpn: "h2",
  channel: (options) => new RpcChannel(options),
  server: (rpc, tls, onTlsError) => createGrpcServer(rpc, tls, onTlsError, "node-http2"),
};

/** The gRPC broker wire of one framing. */
export function grpcBrokerWireFor(framing: GrpcFraming): BrokerWire {
  return framing === "h2" ? h2BrokerWire : nodeHttp2BrokerWire;
}

/**
 * plugwire's fast wire. Its servers accept gRPC too (the dual listener tells them apart by the
 * first bytes, or by ALPN under TLS), so a peer that dials with gRPC is still served.
 */
export const fastBrokerWire: BrokerWire = {
  name: "fast",
  alpn: fastWireAlpn,
  channel: (options) => new FastChannel(options),
  server: (rpc, tls, onTlsError) => createDualListener(rpc, tls, onTlsError),
};

/**
 * The fast wire with gRPC on `framing` for a peer that dials gRPC (the plugin's choice of
 * framing holds for its brokered servers too).
 */
export function fastBrokerWireWith(framing: GrpcFraming): BrokerWire {
  return {
    ...fastBrokerWire,
    server: (rpc, tls, onTlsError) => createDualListener(rpc, tls, onTlsError, framing),
  };
}
