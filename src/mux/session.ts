import { once } from "node:events";
import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import type { FrameHeader, FrameSink } from "./frame.ts";
import {
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  initialStreamWindowBytes,
  yamuxVersion,
} from "./frame.ts";
import type { StreamLink, StreamOrigin } from "./stream.ts";
import { streamFrames, YamuxStream } from "./stream.ts";

/** yamux client (opens odd stream ids; the go-plugin host) or server (even ids; the plugin). */
export type YamuxRole = "client" | "server";

/** Options of a {@link YamuxSession}. Defaults are hashicorp/yamux's `DefaultConfig()`. */
export interface YamuxSessionOptions {
  /** `client` on the side that dialled (go-plugin's host), `server` on the side that accepted. */
  role: YamuxRole;
  /**
   * Streams the peer may open that are not accepted yet (more are refused with RST); also how
   * many of this side's opens may await the peer's ACK before further opens hold back their SYN.
   * Default 256.
   */
  acceptBacklog?: number | undefined;
  /** Interval of keep-alive pings; a ping not answered in time ends the session. 0 disables. Default 30 000. */
  keepAliveIntervalMs?: number | undefined;
  /**
   * How long a ping may wait for its answer, and how long the connection may refuse writes
   * (write buffer full, no drain) before the session is considered dead. Default 10 000.
   */
  connectionWriteTimeoutMs?: number | undefined;
  /** How long an opened stream may wait for the peer's ACK before the session is closed. 0 disables. Default 75 000. */
  streamOpenTimeoutMs?: number | undefined;
  /** How long a stream may wait for the peer's FIN after its own before it is reset. 0 disables. Default 300 000. */
  streamCloseTimeoutMs?: number | undefined;
  /** Receive window granted to each stream (at least 256 KiB). Default 256 KiB. */
  maxStreamWindowBytes?: number | undefined;
}

interface PendingPing {
  readonly resolve: (rttMs: number) => void;
  readonly reject: (error: PluginError) => void;
  readonly timer: NodeJS.Timeout;
  readonly started: number;
}

interface AcceptWaiter {
  readonly resolve: (stream: YamuxStream) => void;
  readonly reject: (error: PluginError) => void;
}

const maxStreamId = 0xffff_ffff;

/**
 * A hashicorp/yamux session over one reliable byte stream (a socket, a TLS socket, any `Duplex`):
 * many {@link YamuxStream}s, each with its own flow control, over one connection. Wire-compatible
 * with github.com/hashicorp/yamux (what go-plugin uses for `PLUGIN_MULTIPLEX_GRPC`).
 *
 * The session owns the connection: it ends it when the session closes, and closes when it ends.
 */
export class YamuxSession {
  readonly role: YamuxRole;
  /**
   * Settles when the session has ended: `undefined` after a local `close()`, otherwise the reason
   * (the connection ended or failed, a protocol error, a keep-alive or open timeout). Never rejects.
   */
  readonly closed: Promise<PluginError | undefined>;
  readonly #socket: Duplex;
  readonly #parser: FrameParser;
  readonly #link: StreamLink;
  readonly #acceptBacklog: number;
  readonly #writeTimeoutMs: number;
  readonly #openTimeoutMs: number;
  readonly #maxWindow: number;
  readonly #streams = new Map<number, YamuxStream>();
  /** Streams we opened whose ACK has not arrived, with their open timers. */
  readonly #inflight = new Map<number, NodeJS.Timeout | undefined>();
  /** Streams opened while `acceptBacklog` SYNs were unacknowledged: their SYN waits. */
  readonly #waitingSyn: YamuxStream[] = [];
  /** Streams the peer opened that nobody accepted yet. */
  readonly #backlog: YamuxStream[] = [];
  readonly #acceptWaiters: AcceptWaiter[] = [];
  readonly #pings = new Map<number, PendingPing>();
  readonly #writableWaiters: Array<() => void> = [];
  #nextStreamId: number;
  #nextPingId = 0;
  #localGoAway = false;
  #remoteGoAway = false;
  #failure: PluginError | undefined;
  #current: YamuxStream | undefined;
  #writeTimer: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #resolveClosed!: (reason: PluginError | undefined) => void;

  constructor(socket: Duplex, options: YamuxSessionOptions) {
    this.role = options.role;
    this.#socket = socket;
    this.#acceptBacklog = positive(options.acceptBacklog, 256, "acceptBacklog");
    this.#writeTimeoutMs = positive(
      options.connectionWriteTimeoutMs,
      10_000,
      "connectionWriteTimeoutMs",
    );
    this.#openTimeoutMs = nonNegative(options.streamOpenTimeoutMs, 75_000, "streamOpenTimeoutMs");
    const closeTimeoutMs = nonNegative(
      options.streamCloseTimeoutMs,
      300_000,
      "streamCloseTimeoutMs",
    );
    const keepAliveMs = nonNegative(options.keepAliveIntervalMs, 30_000, "keepAliveIntervalMs");
    this.#maxWindow = options.maxStreamWindowBytes ?? initialStreamWindowBytes;
    if (
      !Number.isInteger(this.#maxWindow) ||
      this.#maxWindow < initialStreamWindowBytes ||
      this.#maxWindow > 0x7fff_ffff
    ) {
      throw new PluginError(
        "CONFIG_INVALID",
        `maxStreamWindowBytes must be an integer from ${initialStreamWindowBytes} to 2^31-1`,
      );
    }
    this.#nextStreamId = options.role === "client" ? 1 : 2;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });

    const session = this;
    this.#link = {
      maxWindowBytes: this.#maxWindow,
      closeTimeoutMs,
      get failure() {
        return session.#failure;
      },
      get writable() {
        return session.#failure === undefined && !session.#socket.writableNeedDrain;
      },
      send: (type, flags, streamId, length, body, flushed) =>
        this.#send(type, flags, streamId, length, body, flushed),
      whenWritable: (callback) => {
        if (this.#failure !== undefined) queueMicrotask(callback);
        else this.#writableWaiters.push(callback);
      },
      release: (stream) => this.#release(stream),
    };
    const sink: FrameSink = {
      header: (header) => this.#onHeader(header),
      payload: (_header, chunk) => this.#current?.[streamFrames].payload(chunk),
      end: (header) => this.#onFrameEnd(header),
    };
    this.#parser = new FrameParser(sink);

    socket.on("data", (chunk: Buffer) => this.#parser.push(chunk));
    socket.on("drain", () => this.#onDrain());
    // Losing the connection (EOF, close, EPIPE/ECONNRESET: which comes first is a race) closes
    // the streams without an error, as node:http2 closes its streams when its socket closes (and
    // hashicorp/yamux's readers see EOF); the reason is in `closed`. Failures this side detects
    // (protocol errors, GoAway with an error code, timeouts) fail the streams with the reason.
    socket.on("end", () =>
      this.#terminate(
        new PluginError("UNAVAILABLE", "the peer closed the yamux connection"),
        "quiet",
      ),
    );
    socket.on("close", () =>
      this.#terminate(new PluginError("UNAVAILABLE", "the yamux connection closed"), "quiet"),
    );
    socket.on("error", (error: Error) =>
      this.#terminate(
        new PluginError("UNAVAILABLE", `the yamux connection failed: ${error.message}`, {
          cause: error,
        }),
        "quiet",
      ),
    );
    if (keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => {
        this.ping().catch((error: unknown) => {
          if (this.#failure !== undefined) return;
          this.#terminate(
            new PluginError(
              "UNAVAILABLE",
              "yamux keep-alive failed: the peer did not answer a ping",
              {
                cause: error,
              },
            ),
          );
        });
      }, keepAliveMs);
      this.#keepAlive.unref();
    }
  }

  /** True once the session has ended (locally or not). */
  get isClosed(): boolean {
    return this.#failure !== undefined;
  }

  /** Streams the session tracks: open, half-closed, or waiting to be accepted. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Opens a stream, synchronously (so it can serve as `createConnection` for `node:http2`). Data
   * may be written at once: the peer's ACK is not awaited, as in hashicorp/yamux, and a refusal
   * arrives as a RST that destroys the stream with `UNAVAILABLE`. While `acceptBacklog` opens are
   * unacknowledged, the new stream's SYN (and its data) waits for an ACK. Throws `UNAVAILABLE`
   * when the session is closed or the peer sent GoAway.
   */
  open(): YamuxStream {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#remoteGoAway) throw goAwayError();
    const id = this.#nextStreamId;
    if (id >= maxStreamId - 1) {
      throw new PluginError("RESOURCE_EXHAUSTED", "yamux stream ids are exhausted");
    }
    this.#nextStreamId += 2;
    const stream = this.#register(id, "local");
    if (this.#inflight.size < this.#acceptBacklog) this.#sendSyn(stream);
    else this.#waitingSyn.push(stream);
    return stream;
  }

  /**
   * The next stream the peer opened (acknowledging it). Rejects with the session's failure once
   * the session is closed.
   */
  accept(): Promise<YamuxStream> {
    for (;;) {
      const stream = this.#backlog.shift();
      if (stream === undefined) break;
      if (stream.destroyed) continue;
      stream[streamFrames].establish();
      return Promise.resolve(stream);
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#acceptWaiters.push({ resolve, reject }));
  }

  /** Accepted streams, until the session closes (the loop then ends; see `closed` for why). */
  async *[Symbol.asyncIterator](): AsyncGenerator<YamuxStream, void, undefined> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#failure !== undefined) return;
        throw error;
      }
    }
  }

  /** Round-trip time of one ping in ms. Rejects with `DEADLINE_EXCEEDED` after `connectionWriteTimeoutMs`. */
  ping(): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 1) >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(
          new PluginError(
            "DEADLINE_EXCEEDED",
            `the yamux peer did not answer a ping within ${this.#writeTimeoutMs} ms`,
          ),
        );
      }, this.#writeTimeoutMs);
      timer.unref();
      this.#pings.set(id, { resolve, reject, timer, started: performance.now() });
      this.#send(FrameType.PING, Flag.SYN, 0, id);
    });
  }

  /**
   * Tells the peer not to open more streams (GoAway, normal) and refuses any it still opens with
   * RST. Open streams continue; the connection stays open.
   */
  goAway(): void {
    if (this.#failure !== undefined || this.#localGoAway) return;
    this.#localGoAway = true;
    this.#send(FrameType.GO_AWAY, 0, 0, GoAwayCode.NORMAL);
  }

  /**
   * Closes the session: sends GoAway (normal), ends the connection, and destroys the streams still
   * open without an error, here and (as the connection ends cleanly) on the peer. Resolves once
   * the connection is closed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#failure === undefined) {
      this.#localGoAway = true;
      this.#send(FrameType.GO_AWAY, 0, 0, GoAwayCode.NORMAL);
      this.#terminate(new PluginError("UNAVAILABLE", "the yamux session was closed"), "local");
    }
    if (!this.#socket.closed) await once(this.#socket, "close").catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #sendSyn(stream: YamuxStream): void {
    const id = stream.id;
    let timer: NodeJS.Timeout | undefined;
    if (this.#openTimeoutMs > 0) {
      // As hashicorp/yamux: a peer that never acknowledges a stream is considered dead.
      timer = setTimeout(() => {
        this.#terminate(
          new PluginError(
            "UNAVAILABLE",
            `the yamux peer did not acknowledge stream ${id} within ${this.#openTimeoutMs} ms`,
          ),
        );
      }, this.#openTimeoutMs);
      timer.unref();
    }
    this.#inflight.set(id, timer);
    stream[streamFrames].establish();
  }

  #register(id: number, origin: StreamOrigin): YamuxStream {
    const stream = new YamuxStream(this.#link, id, origin);
    this.#streams.set(id, stream);
    return stream;
  }

  #send(
    type: FrameType,
    flags: number,
    streamId: number,
    length: number,
    body?: Buffer,
    flushed?: (error?: Error | null) => void,
  ): boolean {
    const socket = this.#socket;
    if (this.#failure !== undefined || !socket.writable) {
      if (flushed !== undefined) queueMicrotask(() => flushed(this.#failure));
      return false;
    }
    const header = encodeHeader(type, flags, streamId, length);
    let ok: boolean;
    if (body === undefined) {
      ok = socket.write(header, flushed);
    } else if (body.length <= 4096) {
      ok = socket.write(Buffer.concat([header, body]), flushed);
    } else {
      socket.cork();
      socket.write(header);
      ok = socket.write(body, flushed);
      socket.uncork();
    }
    if (!ok && this.#writeTimer === undefined) {
      // hashicorp/yamux's "safety valve": a connection that takes no bytes for this long is dead.
      this.#writeTimer = setTimeout(() => {
        this.#terminate(
          new PluginError(
            "UNAVAILABLE",
            `yamux connection write timeout: no progress for ${this.#writeTimeoutMs} ms`,
          ),
        );
      }, this.#writeTimeoutMs);
      this.#writeTimer.unref();
    }
    return ok;
  }

  #onDrain(): void {
    if (this.#writeTimer !== undefined) {
      clearTimeout(this.#writeTimer);
      this.#writeTimer = undefined;
    }
    const waiters = this.#writableWaiters.splice(0);
    for (const waiter of waiters) waiter();
  }

  #onHeader(header: FrameHeader): void {
    this.#current = undefined;
    if (header.version !== yamuxVersion) {
      this.#protocolError(`invalid yamux protocol version ${header.version}`);
      return;
    }
    switch (header.type) {
      case FrameType.DATA:
      case FrameType.WINDOW_UPDATE:
        this.#onStreamHeader(header);
        return;
      case FrameType.PING:
        this.#onPing(header);
        return;
      case FrameType.GO_AWAY:
        this.#onGoAway(header.length);
        return;
      default:
        this.#protocolError(`invalid yamux frame type ${header.type}`);
    }
  }

  #onStreamHeader(header: FrameHeader): void {
    const { flags, streamId: id } = header;
    if ((flags & Flag.SYN) !== 0 && !this.#incoming(id)) return;
    const stream = this.#streams.get(id);
    // No stream: one we reset or finished; its late frames (and Data payload) are dropped.
    if (stream === undefined) return;
    if ((flags & Flag.ACK) !== 0) this.#acknowledged(id);
    if (header.type === FrameType.WINDOW_UPDATE) {
      stream[streamFrames].windowUpdate(header.length);
    } else if (header.length > 0 && !stream[streamFrames].reserve(header.length)) {
      this.#protocolError(`yamux stream ${id} exceeded its receive window`);
      return;
    }
    this.#current = stream;
  }

  #onFrameEnd(header: FrameHeader): void {
    const stream = this.#current;
    this.#current = undefined;
    if (stream === undefined || this.#failure !== undefined) return;
    if ((header.flags & Flag.FIN) !== 0) stream[streamFrames].fin();
    if ((header.flags & Flag.RST) !== 0) {
      this.#release(stream);
      stream[streamFrames].reset(
        new PluginError("UNAVAILABLE", `yamux stream ${stream.id} was reset by the peer`, {
          details: { streamId: stream.id },
        }),
      );
    }
  }

  /** A SYN from the peer: registers the stream, or refuses it. Returns whether it was registered. */
  #incoming(id: number): boolean {
    if (this.#localGoAway || this.#backlog.length >= this.#acceptBacklog) {
      this.#send(FrameType.WINDOW_UPDATE, Flag.RST, id, 0);
      return false;
    }
    if (id === 0 || this.#streams.has(id)) {
      this.#protocolError(`duplicate yamux stream ${id}`);
      return false;
    }
    const stream = this.#register(id, "remote");
    const waiter = this.#acceptWaiters.shift();
    if (waiter === undefined) {
      this.#backlog.push(stream);
    } else {
      stream[streamFrames].establish();
      waiter.resolve(stream);
    }
    return true;
  }

  #acknowledged(id: number): void {
    if (!this.#inflight.has(id)) return;
    clearTimeout(this.#inflight.get(id));
    this.#inflight.delete(id);
    for (;;) {
      const next = this.#waitingSyn.shift();
      if (next === undefined) return;
      if (next.destroyed) continue;
      this.#sendSyn(next);
      return;
    }
  }

  #release(stream: YamuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    for (const list of [this.#backlog, this.#waitingSyn]) {
      const index = list.indexOf(stream);
      if (index >= 0) list.splice(index, 1);
    }
    this.#acknowledged(stream.id);
  }

  #onPing(header: FrameHeader): void {
    if ((header.flags & Flag.SYN) !== 0) {
      this.#send(FrameType.PING, Flag.ACK, 0, header.length);
      return;
    }
    const ping = this.#pings.get(header.length);
    if (ping === undefined) return;
    this.#pings.delete(header.length);
    clearTimeout(ping.timer);
    ping.resolve(performance.now() - ping.started);
  }

  #onGoAway(code: number): void {
    switch (code) {
      case GoAwayCode.NORMAL: {
        this.#remoteGoAway = true;
        // Streams whose SYN has not gone out yet never will.
        for (const stream of this.#waitingSyn.splice(0)) stream[streamFrames].reset(goAwayError());
        return;
      }
      case GoAwayCode.PROTOCOL_ERROR:
        this.#terminate(new PluginError("INTERNAL", "the yamux peer reported a protocol error"));
        return;
      case GoAwayCode.INTERNAL_ERROR:
        this.#terminate(new PluginError("INTERNAL", "the yamux peer reported an internal error"));
        return;
      default:
        this.#terminate(new PluginError("INTERNAL", `unexpected yamux GoAway code ${code}`));
    }
  }

  #protocolError(message: string): void {
    this.#send(FrameType.GO_AWAY, 0, 0, GoAwayCode.PROTOCOL_ERROR);
    this.#terminate(new PluginError("INTERNAL", message));
  }

  /**
   * Ends the session once: fails everything waiting, destroys the streams (with `reason` only if
   * the session `failed`), ends the connection.
   */
  #terminate(reason: PluginError, how: "local" | "quiet" | "failed" = "failed"): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason;
    this.#parser.stop();
    this.#current = undefined;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    for (const timer of this.#inflight.values()) clearTimeout(timer);
    this.#inflight.clear();
    this.#waitingSyn.length = 0;
    for (const waiter of this.#acceptWaiters.splice(0)) waiter.reject(reason);
    for (const ping of this.#pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(reason);
    }
    this.#pings.clear();
    this.#backlog.length = 0;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    const streamError = how === "failed" ? reason : undefined;
    for (const stream of streams) stream[streamFrames].sessionClosed(streamError);
    for (const wake of this.#writableWaiters.splice(0)) wake();
    this.#closeSocket();
    this.#resolveClosed(how === "local" ? undefined : reason);
  }

  /** Ends the connection after what is queued (GoAway included) is written; destroys it if stuck. */
  #closeSocket(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), this.#writeTimeoutMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }
}

function goAwayError(): PluginError {
  return new PluginError("UNAVAILABLE", "the yamux peer is not accepting new streams (GoAway)");
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result <= 0) {
    throw new PluginError("CONFIG_INVALID", `${name} must be a positive number`);
  }
  return result;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0) {
    throw new PluginError("CONFIG_INVALID", `${name} must be zero or a positive number`);
  }
  return result;
}
