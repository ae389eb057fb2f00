import { createServer as createNetServer, type Server, type Socket } from "node:net";
import type { Duplex, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import type { ConnInfo } from "../gen/plugin/grpc_broker_pb.js";
import { afterLoopTurn } from "../internal/settle.ts";
import { stepError } from "../internal/step.ts";
import type { Network } from "../protocol/handshake-line.ts";
import type { Logger } from "../protocol/hclog.ts";
import { createClient } from "../rpc/core/client.ts";
import { Inbox } from "../rpc/core/inbox.ts";
import type {
  BrokeredServer,
  BrokerServeOptions,
  Channel,
  Client,
  HandlerBroker,
  ServeArgument,
  ServiceRegistration,
} from "../rpc/core/types.ts";
import { RpcServer } from "../rpc/grpc/server.ts";
import type { ServerTls } from "../transport/auto-mtls-server.ts";
import { createAutoMtlsServer } from "../transport/auto-mtls-server.ts";
import { secureClient } from "../transport/dial.ts";
import { framedReader, framedWriter } from "./byte-frames.ts";
import type { OnRead } from "./chunk-reader.ts";
import { ChunkReader } from "./chunk-reader.ts";
import { brokerTimeoutMs, Mailbox } from "./mailbox.ts";
import type { MuxRouter } from "./mux-transport.ts";
import { muxTransport } from "./mux-transport.ts";
import type { BrokerTransport, DialOptions } from "./transport.ts";
import { socketTransport } from "./transport.ts";
import type { BrokerWire } from "./wires.ts";
import { grpcBrokerWire } from "./wires.ts";

export interface BrokerOptions {
  /** Name used in errors and logs. */
  readonly name: string;
  /** Network for brokered listeners (the main connection's). */
  readonly network: Network;
  /** Environment for listening: PLUGIN_UNIX_SOCKET_DIR and _GROUP, port range. */
  readonly env: NodeJS.ProcessEnv;
  /** AutoMTLS: this side's identity and the peer's certificate, for serving and dialing. */
  readonly tls: ServerTls | undefined;
  readonly logger?: Logger | undefined;
  readonly maxReceiveMessageBytes?: number | undefined;
  readonly maxSendMessageBytes?: number | undefined;
  /** The wire brokered calls use: the main connection's. Default gRPC (`grpcBrokerWire`). */
  readonly wire?: BrokerWire | undefined;
}

export type { BrokeredServer, BrokerServeOptions, ServeArgument } from "../rpc/core/types.ts";

interface Closable {
  close(): Promise<void> | void;
}

/**
 * go-plugin's GRPCBroker, both roles (go-plugin-protocol §5): either side serves extra gRPC
 * services or byte streams on new listeners and announces them on the broker stream by id; the
 * other side dials the id. TLS is applied to every brokered connection as on the main one.
 * Everything brokered is closed with the broker.
 */
export class Broker implements HandlerBroker {
  readonly #options: BrokerOptions;
  readonly #outgoing = new Inbox<ConnInfo>();
  readonly #mailbox = new Mailbox();
  readonly #resources = new Set<Closable>();
  #lastId = 0;
  #closed: PluginError | undefined;
  #closing: Promise<void> | undefined;

  #transport: BrokerTransport;
  readonly #wire: BrokerWire;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#wire = options.wire ?? grpcBrokerWire;
    this.#transport = socketTransport(options.network, options.env, this.#send, this.#takeInfo);
  }

  /**
   * Switches to go-plugin's multiplexed mode (§5.4): knocks on the broker stream, connections as
   * streams of the connection's yamux session. Called once the session exists.
   * @internal
   */
  multiplex(router: MuxRouter): void {
    this.#transport = muxTransport(router, this.#send, this.#takeInfo);
  }

  readonly #send = (info: ConnInfo) => this.#outgoing.push(info, 0);
  readonly #takeInfo = (id: number, options: DialOptions) =>
    this.#mailbox.take(id, options.timeoutMs, options.signal);

  /** The next free id on this side (ids of the two sides are independent, from 1). */
  nextId(): number {
    this.#lastId = (this.#lastId + 1) >>> 0;
    return this.#lastId;
  }

  /** Messages for the broker stream, as this side produces them. */
  get outgoing(): AsyncIterable<ConnInfo> {
    return this.#outgoing;
  }

  /** A message received on the broker stream. */
  receive(info: ConnInfo): void {
    // A knock asks this side to take the next stream for an id; everything else (connection info,
    // knock acks) answers one of this side's dials.
    if (info.knock?.knock === true && !info.knock.ack) this.#transport.knock(info);
    else this.#mailbox.deliver(info);
  }

  /**
   * Serves `services` on a new brokered server and returns its id to hand to the peer (in any
   * message field, as go-plugin's bidirectional example does). The id is announced only once the
   * server accepts connections.
   */
  async serve(...services: ReadonlyArray<ServeArgument>): Promise<BrokeredServer> {
    return this.acceptAndServe(this.nextId(), ...services);
  }

  /**
   * Serves `services` under a given id (go-plugin's AcceptAndServe). A `{ signal }` as the last
   * argument ends the brokered server when it aborts (as `close()` does).
   */
  async acceptAndServe(id: number, ...args: ReadonlyArray<ServeArgument>): Promise<BrokeredServer> {
    const { services, signal } = splitServeArguments(args);
    this.#checkOpen();
    if (signal?.aborted) throw stepError(signal, "brokered serve");
    const rpc = new RpcServer({
      maxReceiveMessageBytes: this.#options.maxReceiveMessageBytes,
      maxSendMessageBytes: this.#options.maxSendMessageBytes,
      onHandlerError: (error, path) =>
        this.#options.logger?.error("brokered handler failed", { id, method: path, error }),
      broker: this,
    }).register(...services);
    const served = this.#wire.server(rpc, this.#options.tls, (error) =>
      this.#options.logger?.debug("TLS handshake on a brokered connection failed", { id, error }),
    );
    const cleanup = await this.#transport.accept(id, served.server);
    const resource = {
      close: async () => {
        this.#resources.delete(resource);
        signal?.removeEventListener("abort", onAbort);
        rpc.abortAll("the broker closed");
        await served.close();
        cleanup();
      },
    };
    const onAbort = () => void resource.close();
    this.#resources.add(resource);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    return { id, close: resource.close };
  }

  /** Dials a service the peer serves under `id` (go-plugin's Dial): a channel for typed clients. */
  async dial(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Channel> {
    const connect = await this.#connector(id, options, this.#wire.alpn);
    const channel = this.#wire.channel({
      connect,
      tls: this.#options.tls !== undefined,
      maxReceiveMessageBytes: this.#options.maxReceiveMessageBytes,
      maxSendMessageBytes: this.#options.maxSendMessageBytes,
    });
    const resource = {
      close: () => channel.close(new PluginError("CLIENT_CLOSED", "the broker closed")),
    };
    this.#resources.add(resource);
    return channel;
  }

  /** A typed client for the service the peer serves under `id`. */
  async client<S extends DescService>(
    id: number,
    service: S,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Client<S>> {
    return createClient(service, await this.dial(id, options));
  }

  /**
   * Hands a byte source to the peer: returns an id the peer passes to `dialReadable` to read it.
   * Bytes flow over a dedicated brokered connection (TLS under AutoMTLS) with the socket's
   * back-pressure, so memory stays flat whatever the size.
   */
  async serveReadable(source: Readable, options: BrokerServeOptions = {}): Promise<number> {
    return this.#serveBytes((socket) => pipeline(source, framedWriter(socket)), options.signal);
  }

  /** Hands a byte sink to the peer: the peer writes into the Writable `dialWritable` returns. */
  async serveWritable(sink: Writable, options: BrokerServeOptions = {}): Promise<number> {
    return this.#serveBytes((socket) => pipeline(framedReader(socket), sink), options.signal);
  }

  /** Reads a byte source the peer served under `id`. */
  async dialReadable(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    return framedReader(await this.#dialBytes(id, options));
  }

  /**
   * Reads a byte source the peer served under `id` as borrowed chunks: each is a view of one of a
   * few reused 64 KiB read buffers, valid until you ask for the next (copy what you keep; never
   * pipe it on), which a loop that is done with each chunk in its body (hash, parse, `await
   * file.write(chunk)`) never notices. No memory is allocated per read, plain or under AutoMTLS,
   * so RSS stays flat and the rate is the connection's (docs/performance.md §14, §17);
   * `dialReadable` gives chunks you own. A `break` closes the connection, so the writer fails
   * UNAVAILABLE; a cut stream fails DATA_LOSS.
   */
  async dialBorrowedChunks(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<AsyncIterableIterator<Buffer>> {
    const reader = new ChunkReader();
    return reader.attach(await this.#dialBytes(id, options, reader.onread));
  }

  /** Writes into a byte sink the peer served under `id`; `end()` it when done. */
  async dialWritable(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Writable> {
    return framedWriter(await this.#dialBytes(id, options));
  }

  /** Ends the broker: brokered servers stop, channels close, pending dials fail. Idempotent. */
  close(reason = new PluginError("CLIENT_CLOSED", "the broker closed")): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  /** Resolves once nothing brokered holds the event loop: no server, socket or timer. */
  async #close(reason: PluginError): Promise<void> {
    this.#closed = reason;
    this.#outgoing.end();
    this.#mailbox.close(reason);
    const resources = [...this.#resources];
    await Promise.allSettled(resources.map((r) => r.close()));
    this.#resources.clear();
    if (resources.length > 0) await afterLoopTurn();
  }

  async #serveBytes(
    transfer: (socket: Duplex) => Promise<void>,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    this.#checkOpen();
    if (signal?.aborted) throw stepError(signal, "brokered serve");
    const id = this.nextId();
    const tls = this.#options.tls;
    let connected = false;
    const onConnection = (socket: Socket) => {
      // One transfer per id: stop listening once the peer is connected.
      if (connected) return void socket.destroy();
      connected = true;
      void resource.close();
      transfer(socket).catch((error: unknown) => {
        this.#options.logger?.debug("brokered byte stream failed", { id, error });
        socket.destroy();
      });
    };
    const server: Server =
      tls === undefined
        ? createNetServer(onConnection)
        : createAutoMtlsServer(tls, {}, onConnection);
    let cleanup: (() => void) | undefined;
    const resource = {
      close: async () => {
        this.#resources.delete(resource);
        signal?.removeEventListener("abort", onAbort);
        // A server that never listened (multiplexed mode) reports ERR_SERVER_NOT_RUNNING: fine.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        cleanup?.();
      },
    };
    this.#resources.add(resource);
    // An abort before the peer connects stops listening; a transfer under way goes on.
    const onAbort = () => void resource.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    cleanup = await this.#transport.accept(id, server);
    if (signal?.aborted) onAbort();
    return id;
  }

  async #dialBytes(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal },
    onread?: OnRead,
  ): Promise<Duplex> {
    const socket = (await this.#connector(id, options))(onread);
    const resource = { close: () => void socket.destroy() };
    this.#resources.add(resource);
    socket.once("close", () => this.#resources.delete(resource));
    return socket;
  }

  /**
   * Waits for what the peer announced for `id` and returns a function opening a connection to it,
   * TLS applied as on the main connection.
   */
  async #connector(
    id: number,
    options: { timeoutMs?: number; signal?: AbortSignal },
    alpn = "h2",
  ): Promise<(onread?: OnRead) => Duplex> {
    this.#checkOpen();
    const { connect, secure } = await this.#transport.dial(id, {
      timeoutMs: options.timeoutMs ?? brokerTimeoutMs,
      signal: options.signal,
    });
    const tls = this.#options.tls;
    if (tls === undefined) return connect;
    // `onread` reaches TLS's plaintext only on a socket TLS opens itself (not over a yamux stream).
    if (secure !== undefined) return (onread) => secure(tls, alpn, onread);
    return () => secureClient(tls, { socket: connect() }, alpn);
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) throw this.#closed;
  }
}

function splitServeArguments(args: ReadonlyArray<ServeArgument>): {
  services: ServiceRegistration<DescService>[];
  signal: AbortSignal | undefined;
} {
  const services: ServiceRegistration<DescService>[] = [];
  let signal: AbortSignal | undefined;
  for (const arg of args) {
    if ("service" in arg) services.push(arg);
    else signal = arg.signal;
  }
  return { services, signal };
}
