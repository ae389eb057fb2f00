import { connect as netConnect } from "node:net";
import type { Duplex } from "node:stream";
import type { Network } from "../protocol/handshake-line.ts";
import { RpcChannel } from "../rpc/channel.ts";
import type { TlsIdentity } from "../tls/auto-mtls.ts";

export interface ConnectOptions {
  readonly network: Network;
  readonly address: string;
  /** Our identity and the certificate we trust (AutoMTLS); plain text without. */
  readonly tls?: { readonly identity: TlsIdentity; readonly peerCertPem: string } | undefined;
  readonly maxReceiveMessageBytes?: number | undefined;
  readonly maxSendMessageBytes?: number | undefined;
}

export type ClientTls = NonNullable<ConnectOptions["tls"]>;

/**
 * TLS as go-plugin's AutoMTLS client: our certificate, trusting exactly the peer's, verified for
 * the name `localhost` whatever the address (go-plugin-protocol §14.36), ALPN h2. Over a new
 * connection to `target`, or over an existing stream (a yamux stream in multiplexed mode).
 */
export function secureClient(
  tls: ClientTls,
  target: { socket: Duplex } | Record<string, unknown>,
  alpn = "h2",
): Duplex {
  // node:tls is loaded on first use: a plugin without AutoMTLS never needs it.
  return process.getBuiltinModule("node:tls").connect({
    ...target,
    servername: "localhost",
    ca: [tls.peerCertPem],
    cert: tls.identity.certPem,
    key: tls.identity.keyPem,
    ALPNProtocols: [alpn],
    minVersion: "TLSv1.2",
  });
}

/**
 * Opens a byte stream to a go-plugin address (unix path or host:port), with TLS when given;
 * `alpn` names the protocol negotiated under TLS (gRPC's "h2" unless told otherwise).
 */
export function dialer(options: ConnectOptions, alpn = "h2"): () => Duplex {
  const target =
    options.network === "unix" ? { path: options.address } : splitHostPort(options.address);
  const tls = options.tls;
  if (tls === undefined) return () => netConnect(target as never);
  return () => secureClient(tls, target, alpn);
}

/** A gRPC channel to a plugin's address. */
export function connectChannel(options: ConnectOptions): RpcChannel {
  return new RpcChannel({
    connect: dialer(options),
    tls: options.tls !== undefined,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  });
}

export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host: host === "" ? "127.0.0.1" : host, port: Number(address.slice(colon + 1)) };
}
