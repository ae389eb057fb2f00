import { once } from "node:events";
import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { goAwayError } from "./errors.ts";
import { FrameType, GoAwayCode } from "./frame.ts";
import type { ReaderHost } from "./frame-reader.ts";
import { FrameReader } from "./frame-reader.ts";
import { FrameWriter } from "./frame-writer.ts";
import { Pinger } from "./ping.ts";
import type { SessionSettings, YamuxRole, YamuxSessionOptions } from "./session-options.ts";
import { sessionSettings } from "./session-options.ts";
import type { StreamLink, YamuxStream } from "./stream.ts";
import { StreamTable } from "./stream-table.ts";

export type { YamuxRole, YamuxSessionOptions } from "./session-options.ts";

/**
 * Open (each side may have sent GoAway, which only stops new streams) or closed, with the reason:
 * ours (`close()`), the connection's, or a failure this side detected.
 */
type SessionState =
  | { readonly t: "open"; readonly localGoAway: boolean; readonly remoteGoAway: boolean }
  | { readonly t: "closed"; readonly reason: PluginError };

/**
 * How the session ended, which decides what its streams see: `local` (our `close()`) and `quiet`
 * (the connection ended or failed) destroy them without an error, `failed` with the reason.
 */
type Ending = "local" | "quiet" | "failed";

/**
 * A hashicorp/yamux session over one reliable byte stream (a socket, a TLS socket, any `Duplex`):
 * many {@link YamuxStream}s, each with its own flow control, over one connection. Wire-compatible
 * with github.com/hashicorp/yamux (what go-plugin uses for `PLUGIN_MULTIPLEX_GRPC`).
 *
 * The session owns the connection: it ends it when the session closes, and closes when it ends.
 * This class holds the session's state and its go-away and close sequence; the frames go out
 * through a {@link FrameWriter}, come in through a {@link FrameReader}, and the streams live in a
 * {@link StreamTable}.
 */
export class YamuxSession {
  readonly role: YamuxRole;
  /**
   * Settles when the session has ended: `undefined` after a local `close()`, otherwise the reason
   * (the connection ended or failed, a protocol error, a keep-alive or open timeout). Never rejects.
   */
  readonly closed: Promise<PluginError | undefined>;
  readonly #socket: Duplex;
  readonly #writer: FrameWriter;
  readonly #table: StreamTable;
  readonly #pinger: Pinger;
  readonly #reader: FrameReader;
  #state: SessionState = { t: "open", localGoAway: false, remoteGoAway: false };
  #resolveClosed!: (reason: PluginError | undefined) => void;

  constructor(socket: Duplex, options: YamuxSessionOptions) {
    const settings = sessionSettings(options);
    this.role = settings.role;
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    const host = this.#readerHost();
    this.#writer = new FrameWriter(socket, settings.connectionWriteTimeoutMs, host);
    this.#table = new StreamTable(this.#streamLink(settings), host, settings);
    this.#pinger = new Pinger(
      this.#writer,
      host,
      settings.connectionWriteTimeoutMs,
      settings.keepAliveIntervalMs,
    );
    this.#reader = new FrameReader(host, this.#table, this.#pinger, this.#writer);
    this.#watch(socket);
  }

  /** True once the session has ended (locally or not). */
  get isClosed(): boolean {
    return this.#state.t === "closed";
  }

  /** Streams the session tracks: open, half-closed, or waiting to be accepted. */
  get streamCount(): number {
    return this.#table.size;
  }

  /**
   * Opens a stream, synchronously (so it can serve as `createConnection` for `node:http2`). Data
   * may be written at once: the peer's ACK is not awaited, as in hashicorp/yamux, and a refusal
   * arrives as a RST that destroys the stream with `UNAVAILABLE`. While `acceptBacklog` opens are
   * unacknowledged, the new stream's SYN (and its data) waits for an ACK. Throws `UNAVAILABLE`
   * when the session is closed or the peer sent GoAway.
   */
  open(): YamuxStream {
    const state = this.#state;
    if (state.t === "closed") throw state.reason;
    if (state.remoteGoAway) throw goAwayError();
    return this.#table.open();
  }

  /**
   * The next stream the peer opened (acknowledging it). Rejects with the session's failure once
   * the session is closed.
   */
  accept(): Promise<YamuxStream> {
    return this.#table.accept();
  }

  /** Accepted streams, until the session closes (the loop then ends; see `closed` for why). */
  async *[Symbol.asyncIterator](): AsyncGenerator<YamuxStream, void, undefined> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#state.t === "closed") return;
        throw error;
      }
    }
  }

  /** Round-trip time of one ping in ms. Rejects with `DEADLINE_EXCEEDED` after `connectionWriteTimeoutMs`. */
  ping(): Promise<number> {
    return this.#pinger.ping();
  }

  /**
   * Tells the peer not to open more streams (GoAway, normal) and refuses any it still opens with
   * RST. Open streams continue; the connection stays open.
   */
  goAway(): void {
    const state = this.#state;
    if (state.t === "closed" || state.localGoAway) return;
    this.#state = { ...state, localGoAway: true };
    this.#writer.send(FrameType.GO_AWAY, 0, 0, GoAwayCode.NORMAL);
  }

  /**
   * Closes the session: sends GoAway (normal), ends the connection, and destroys the streams still
   * open without an error, here and (as the connection ends cleanly) on the peer. Resolves once
   * the connection is closed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state.t === "open") {
      this.#writer.send(FrameType.GO_AWAY, 0, 0, GoAwayCode.NORMAL);
      this.#terminate(new PluginError("UNAVAILABLE", "the yamux session was closed"), "local");
    }
    if (!this.#socket.closed) await once(this.#socket, "close").catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Losing the connection ends the session (see `#terminate` for what the streams see). */
  #watch(socket: Duplex): void {
    socket.on("data", (chunk: Buffer) => this.#reader.push(chunk));
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
  }

  /** What the session's parts may see of its state and ask of it. */
  #readerHost(): ReaderHost {
    const session = this;
    return {
      get failure() {
        const state = session.#state;
        return state.t === "closed" ? state.reason : undefined;
      },
      get acceptsStreams() {
        const state = session.#state;
        return state.t === "open" && !state.localGoAway;
      },
      fail: (reason) => this.#terminate(reason, "failed"),
      peerGoAway: () => {
        const state = this.#state;
        if (state.t === "closed") return;
        this.#state = { ...state, remoteGoAway: true };
        this.#table.peerGoAway();
      },
    };
  }

  /** What each stream may ask of the session. */
  #streamLink(settings: SessionSettings): StreamLink {
    const session = this;
    return {
      maxWindowBytes: settings.maxStreamWindowBytes,
      closeTimeoutMs: settings.streamCloseTimeoutMs,
      get failure() {
        const state = session.#state;
        return state.t === "closed" ? state.reason : undefined;
      },
      get writable() {
        return session.#writer.writable;
      },
      send: (type, flags, streamId, length, body, flushed) =>
        this.#writer.send(type, flags, streamId, length, body, flushed),
      whenWritable: (callback) => this.#writer.whenWritable(callback),
      release: (stream) => this.#table.release(stream),
    };
  }

  /**
   * Ends the session once: fails everything waiting, destroys the streams (with `reason` only if
   * the session `failed`), ends the connection.
   */
  #terminate(reason: PluginError, how: Ending): void {
    if (this.#state.t === "closed") return;
    this.#state = { t: "closed", reason };
    this.#reader.stop();
    this.#pinger.close(reason);
    this.#table.close(reason, how === "failed" ? reason : undefined);
    this.#writer.close();
    this.#resolveClosed(how === "local" ? undefined : reason);
  }
}
