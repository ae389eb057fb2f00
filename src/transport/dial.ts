import type { OnReadOpts } from "node:net";
import { connect as netConnect } from "node:net";
import { Duplex } from "node:stream";
import type { Network } from "../protocol/handshake-line.ts";
import { RpcChannel } from "../rpc/grpc/channel.ts";
import type { H2ChannelOptions } from "../rpc/h2/client.ts";
import { H2Channel } from "../rpc/h2/client.ts";
import type { GrpcFraming } from "../rpc/h2/framing-option.ts";
import { resolveGrpcFraming } from "../rpc/h2/framing-option.ts";
import type { DialTarget } from "./address.ts";
import { checkAddress } from "./address.ts";
import type { TlsIdentity } from "./auto-mtls.ts";

export interface ConnectOptions {
  readonly network: Network;
  readonly address: string;
  /** Our identity and the certificate we trust (AutoMTLS); plain text without. */
  readonly tls?: { readonly identity: TlsIdentity; readonly peerCertPem: string } | undefined;
  readonly maxReceiveMessageBytes?: number | undefined;
  readonly maxSendMessageBytes?: number | undefined;
  /** Dial a TCP address that is not loopback. Default false. */
  readonly allowRemoteTcp?: boolean | undefined;
  /** The HTTP/2 under gRPC (docs/transport.md). Default: `PLUGWIRE_GRPC_FRAMING`, else h2. */
  readonly framing?: GrpcFraming | undefined;
}

export type ClientTls = NonNullable<ConnectOptions["tls"]>;

/**
 * TLS as go-plugin's AutoMTLS client: our certificate, trusting exactly the peer's, verified for
 * the name `localhost` whatever the address (go-plugin-protocol §14.36), ALPN h2. Over a new
 * connection to a checked `target`, or over an existing stream (a yamux stream in multiplexed
 * mode). The socket underneath is ours and has its error listener before it does any I/O, so a
 * failure reaches the caller as 'error' and 'close' on the returned stream, never as a crash.
 * With `onread` (a new connection only) TLS opens the socket itself, as Node passes `onread` to
 * TLS's reads only then: the plaintext lands in the caller's buffers (docs/performance.md §17).
 */
export function secureClient(
  tls: ClientTls,
  target: { socket: Duplex } | DialTarget,
  alpn = "h2",
  onread?: OnReadOpts,
): Duplex {
  const socket =
    "socket" in target ? target.socket : onread === undefined ? openSocket(target) : undefined;
  try {
    // node:tls is loaded on first use: a plugin without AutoMTLS never needs it.
    return guarded(
      process.getBuiltinModule("node:tls").connect({
        ...(socket === undefined ? { ...target, onread } : { socket }),
        servername: "localhost",
        ca: [tls.peerCertPem],
        cert: tls.identity.certPem,
        key: tls.identity.keyPem,
        ALPNProtocols: [alpn],
        minVersion: "TLSv1.2",
      }),
    );
  } catch (error) {
    socket?.destroy();
    return failedStream(error);
  }
}

/**
 * Opens byte streams to a go-plugin address (unix path or host:port), with TLS when given;
 * `alpn` names the protocol negotiated under TLS (gRPC's "h2" unless told otherwise). The address
 * is checked here, before anything is dialled (`checkAddress`): a bad one throws HANDSHAKE_INVALID.
 */
export function dialer(options: ConnectOptions, alpn = "h2"): (onread?: OnReadOpts) => Duplex {
  const target = checkAddress(options.network, options.address, options);
  const tls = options.tls;
  // `onread`: reads into the caller's buffers (under TLS, the plaintext: `secureClient`).
  if (tls === undefined) return (onread) => openSocket(target, onread);
  return (onread) => secureClient(tls, target, alpn, onread);
}

/** A gRPC channel to a plugin's address (checked first, as by `dialer`). */
export function connectChannel(options: ConnectOptions): RpcChannel | H2Channel {
  return grpcChannel(
    {
      connect: dialer(options),
      tls: options.tls !== undefined,
      maxReceiveMessageBytes: options.maxReceiveMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes,
    },
    options.framing,
  );
}

/** A gRPC channel over the connections `options.connect` opens, on `framing` (default h2). */
export function grpcChannel(
  options: H2ChannelOptions,
  framing?: GrpcFraming | undefined,
): RpcChannel | H2Channel {
  return resolveGrpcFraming(framing) === "h2" ? new H2Channel(options) : new RpcChannel(options);
}

/** A socket to a checked target, listening for errors before it connects. */
function openSocket(target: DialTarget, onread?: OnReadOpts): Duplex {
  try {
    return guarded(netConnect((onread === undefined ? target : { ...target, onread }) as never));
  } catch (error) {
    return failedStream(error);
  }
}

/**
 * A stream's errors surface through the listeners its user adds and through 'close'; this one
 * makes sure an 'error' nobody else listens for (yet) never becomes an uncaught exception.
 */
function guarded<T extends Duplex>(stream: T): T {
  stream.on("error", () => {});
  return stream;
}

/** A stream that fails with `error` as soon as its user listens, as a failed connect does. */
function failedStream(error: unknown): Duplex {
  const stream = guarded(new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() }));
  process.nextTick(() => stream.destroy(error instanceof Error ? error : new Error(String(error))));
  return stream;
}
