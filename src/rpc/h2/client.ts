import type { OnReadOpts } from "node:net";
import type { Duplex } from "node:stream";
import { reusedReadBuffer } from "../../internal/borrowed-reads.ts";
import { CallChannel, type ClientWire } from "../core/call-channel.ts";
import type { ClientCall, ClientStream } from "../core/client-call.ts";
import type { Encoded } from "../core/codec.ts";
import { defaultMaxMessageBytes } from "../core/limits.ts";
import { TurnBudget } from "../fast/flow.ts";
import type { ClientStreamHost } from "./client-stream.ts";
import { H2ClientStream } from "./client-stream.ts";
import { H2Connection } from "./connection.ts";
import { clientPreface, H2Error } from "./frames.ts";
import { FrameError } from "./header-block.ts";
import type { H2Stream, StreamEvents } from "./stream.ts";

export interface H2ChannelOptions {
  /**
   * Opens the byte stream the connection runs on: a socket, a TLS socket (ALPN h2), a mux stream.
   * A socket should be made with `onread` (its reads land in the connection's own buffer); a
   * stream that cannot take it emits 'data' as usual.
   */
  connect: (onread?: OnReadOpts) => Duplex;
  /** Whether `connect` yields TLS (sets `:scheme`). */
  tls?: boolean | undefined;
  /** Largest message accepted from the peer. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message this side sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
  /**
   * After a call ends locally (deadline, cancel) the connection is pinged; one that does not
   * answer within this many ms is abandoned: its calls fail UNAVAILABLE, new ones get a new
   * connection. Default 5000.
   */
  pingTimeoutMs?: number | undefined;
}

/**
 * A gRPC channel on plugwire's own HTTP/2 framing (src/rpc/h2, docs/transport.md) instead of
 * node:http2: the same calls as `RpcChannel`, to any gRPC server (grpc-go, grpcio, node:http2).
 * One connection, opened lazily and reopened after it drops or is told GOAWAY; another one when
 * a server's SETTINGS_MAX_CONCURRENT_STREAMS is reached.
 */
export class H2Channel extends CallChannel {
  constructor(options: H2ChannelOptions) {
    super(new H2Wire(options), options);
  }
}

/** Opens calls on the current connection, a new one when it is gone or told goaway. */
class H2Wire implements ClientWire {
  readonly name = "grpc";
  readonly #options: H2ChannelOptions;
  #connection: H2ClientConnection | undefined;
  readonly #connections = new Set<H2ClientConnection>();

  constructor(options: H2ChannelOptions) {
    this.#options = options;
  }

  open(call: ClientCall, first: Encoded | undefined): ClientStream {
    let connection = this.#connection;
    if (connection === undefined || !connection.usable || connection.full) {
      // A server that allows fewer concurrent calls than are running gets one more connection.
      connection = this.#withRoom() ?? this.#connect();
      this.#connection = connection;
    }
    return connection.open(call, first);
  }

  #withRoom(): H2ClientConnection | undefined {
    for (const connection of this.#connections)
      if (connection.usable && !connection.full) return connection;
    return undefined;
  }

  #connect(): H2ClientConnection {
    // Until its own SETTINGS arrive, a new connection assumes the limit the server announced on
    // the last one (it is the same server).
    const limit = this.#connection?.peer.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    const opened: H2ClientConnection = new H2ClientConnection(this.#options, limit, () =>
      this.#connections.delete(opened),
    );
    this.#connections.add(opened);
    return opened;
  }

  close(): void {
    for (const connection of this.#connections) connection.destroy();
    this.#connections.clear();
    this.#connection = undefined;
  }
}

/**
 * Stream window this side announces, widened to 4 MiB (the node:http2 channel's) for a stream whose
 * messages are large, and its connection window (docs/performance.md §28).
 */
const streamWindowBytes = 1024 * 1024;
const largeMessageWindowBytes = 4 * 1024 * 1024;
const connectionWindowBytes = 64 * 1024 * 1024;
const maxHeaderListBytes = 1024 * 1024;
/**
 * The buffer a connection's socket reads into (`onread`), reused for every read: what Node reads
 * at a time from a socket. docs/performance.md §20.
 */
const readBufferBytes = 64 * 1024;
/** The highest stream id a client may open (2^31 - 1, odd). */
const lastStreamId = 0x7fffffff;

/** One client connection: the preface, stream ids, GOAWAY, the liveness probe. */
class H2ClientConnection extends H2Connection implements ClientStreamHost {
  readonly tls: boolean;
  readonly maxReceiveBytes: number;
  readonly turn = new TurnBudget();
  readonly #pingTimeoutMs: number;
  readonly #onGone: () => void;
  #nextId = 1;
  #goaway = false;
  #probe: NodeJS.Timeout | undefined;
  #lastProbeAt = Number.NEGATIVE_INFINITY;

  constructor(options: H2ChannelOptions, maxConcurrentStreams: number, onGone: () => void) {
    // Reads land in one buffer of the connection's, handed on as borrowed (connection.ts); a
    // stream that cannot take `onread` (a multiplexed one) emits fresh buffers as 'data'.
    const onread = reusedReadBuffer(readBufferBytes, (chunk) => this.receive(chunk, true));
    super(options.connect(onread), false, {
      streamWindowBytes,
      largeMessageWindowBytes,
      connectionWindowBytes,
      maxHeaderListBytes,
    });
    this.peer.maxConcurrentStreams = maxConcurrentStreams;
    this.tls = options.tls === true;
    this.maxReceiveBytes = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 5000;
    this.#onGone = onGone;
    this.writer.raw(clientPreface);
    this.start();
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
  }

  /** False once the server said GOAWAY, ids ran out, or the connection is gone. */
  get usable(): boolean {
    return !this.#goaway && !this.failed && !this.socket.destroyed;
  }

  /** As many calls run as the server allows on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  get full(): boolean {
    return this.streams.size >= this.peer.maxConcurrentStreams;
  }

  open(call: ClientCall, first: Encoded | undefined): ClientStream {
    return new H2ClientStream(this, call, first);
  }

  openStream(events: StreamEvents, block: Buffer): H2Stream {
    const id = this.#nextId;
    this.#nextId += 2;
    if (this.#nextId > lastStreamId) this.#goaway = true; // ids exhausted: the next call reconnects
    this.highestLocal = id;
    const stream = this.addStream(id, events);
    this.headers(id, block, false);
    return stream;
  }

  callReleased(endedLocally: boolean): void {
    if (endedLocally) this.#startProbe();
    if (this.#goaway && this.streams.size === 0) this.socket.end();
  }

  protected acceptStream(id: number): void {
    throw new FrameError(H2Error.protocol, `the server opened stream ${id}`);
  }

  protected onGoaway(lastStreamIdServed: number, code: number, debug: string): void {
    this.#goaway = true;
    // Calls the server never saw fail now (they may be retried on a new connection).
    for (const stream of this.streams.values()) {
      if (stream.id <= lastStreamIdServed) continue;
      stream.close();
      stream.events.onReset(
        undefined,
        `the plugin is going away (GOAWAY, HTTP/2 error ${code}${debug === "" ? "" : `: ${debug}`})`,
      );
    }
    if (this.streams.size === 0) this.socket.end();
  }

  protected onClosed(): void {
    clearTimeout(this.#probe);
    this.#onGone();
  }

  protected override onPingAck(): void {
    clearTimeout(this.#probe);
    this.#probe = undefined;
  }

  /**
   * Checks that the server still answers after a call was cancelled or timed out here: a peer
   * that stopped reading would otherwise take every later call with it. One probe at a time,
   * so a burst of cancelled calls costs one PING (grpc-go counts pings against a client).
   */
  #startProbe(): void {
    if (this.#probe !== undefined || this.failed) return;
    const timeoutMs = this.#pingTimeoutMs;
    // At most one probe per timeout: grpc-go sends GOAWAY (too_many_pings) after three pings
    // within five minutes with no data of its own between them.
    const now = performance.now();
    if (now - this.#lastProbeAt < timeoutMs) return;
    this.#lastProbeAt = now;
    this.#probe = setTimeout(() => {
      this.#goaway = true;
      this.destroy(`the plugin did not answer a ping within ${timeoutMs} ms`);
    }, timeoutMs);
    this.#probe.unref();
    this.ping(Buffer.alloc(8));
  }
}
