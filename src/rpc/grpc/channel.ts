import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import type { Duplex } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import { CallChannel, type ClientWire } from "../core/call-channel.ts";
import type { ClientCall, ClientStream } from "../core/client-call.ts";
import type { Encoded } from "../core/codec.ts";
import { defaultMaxMessageBytes } from "../core/limits.ts";
import { methodPath } from "../core/types.ts";
import { FrameDecoder, sessionBudget, writeFrame } from "./framing.ts";
import { decodeGrpcMessage, http2Codes } from "./status-message.ts";
import { formatGrpcTimeout } from "./timeout.ts";

export interface RpcChannelOptions {
  /** Opens the byte stream the HTTP/2 session runs on: a socket, a TLS socket, a mux stream. */
  connect: () => Duplex;
  /** Whether `connect` yields TLS (sets the `:scheme`). */
  tls?: boolean | undefined;
  /** Largest message accepted from the peer. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message this side sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
  /**
   * After a call ends locally (deadline, cancel) the session is pinged; one that does not answer
   * within this many ms is abandoned: its calls fail UNAVAILABLE, new ones get a new session.
   * Default 5000.
   */
  pingTimeoutMs?: number | undefined;
}

/** HTTP/2 flow-control windows: large enough that a 16 MiB message is not stalled by acks. */
const streamWindowBytes = 4 * 1024 * 1024;
const sessionWindowBytes = 64 * 1024 * 1024;

/**
 * One HTTP/2 connection to a gRPC server, opened lazily and reopened after it drops, carrying
 * calls of all four kinds (the call core does them: ../core/call-channel.ts; this is the
 * framing). `close(reason)` fails every pending call with `reason`.
 */
export class RpcChannel extends CallChannel {
  constructor(options: RpcChannelOptions) {
    super(new GrpcWire(options), options);
  }
}

/** The HTTP/2 session calls are opened on, and the check that it still answers. */
class GrpcWire implements ClientWire {
  readonly name = "grpc";
  readonly #options: RpcChannelOptions;
  readonly #maxReceive: number;
  #session: ClientHttp2Session | undefined;
  #closed = false;
  readonly #probing = new WeakSet<ClientHttp2Session>();

  constructor(options: RpcChannelOptions) {
    this.#options = options;
    this.#maxReceive = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
  }

  open(call: ClientCall, first: Encoded | undefined): ClientStream {
    const session = this.#getSession();
    return new GrpcClientStream(session, call, first, this.#maxReceive, () => {
      if (call.endedLocally) this.#probe(session);
    });
  }

  close(): void {
    this.#closed = true;
    this.#session?.destroy();
    this.#session = undefined;
  }

  #getSession(): ClientHttp2Session {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const scheme = this.#options.tls === true ? "https" : "http";
    // node:http2 is loaded on first use (a host talking only to fast-wire plugins never needs it).
    const session = process.getBuiltinModule("node:http2").connect(`${scheme}://localhost`, {
      createConnection: () => this.#options.connect(),
      settings: { initialWindowSize: streamWindowBytes, enablePush: false },
    });
    session.on("connect", () => {
      // The socket may fail in the same turn as it connects: the session is then destroyed and
      // setLocalWindowSize would throw, as an uncaught exception.
      if (!session.destroyed) session.setLocalWindowSize(sessionWindowBytes);
    });
    // Errors surface on the calls; an unhandled 'error' event must never crash the host.
    session.on("error", () => {});
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  /**
   * Checks that `session` still answers after a call was cancelled or timed out locally: a peer
   * that ended the session without the host noticing (node:http2 over TLS after a GOAWAY,
   * docs/transport.md) or that stopped reading would otherwise take every later call with it.
   */
  #probe(session: ClientHttp2Session): void {
    if (this.#closed || session.destroyed || this.#probing.has(session)) return;
    this.#probing.add(session);
    const timeoutMs = this.#options.pingTimeoutMs ?? 5000;
    const timer = setTimeout(() => {
      if (this.#session === session) this.#session = undefined;
      session.destroy(new Error(`the plugin did not answer a ping within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const answered = () => {
      clearTimeout(timer);
      this.#probing.delete(session);
      session.off("close", answered);
    };
    session.once("close", answered);
    try {
      // A session still connecting cannot be pinged yet: the timer alone decides then.
      if (!session.connecting) session.ping(answered);
    } catch {
      // Too many pings in flight: one is already probing this session.
    }
  }
}

/** Responses buffered before the consumer slows the peer down (HTTP/2 flow control does the rest). */
const highWaterMessages = 16;

/** One call's HTTP/2 stream: headers out, gRPC-framed messages both ways, status in trailers. */
class GrpcClientStream implements ClientStream {
  readonly #call: ClientCall;
  readonly #stream: ClientHttp2Stream;
  readonly #decoder: FrameDecoder;
  readonly #onRelease: () => void;
  #status: number | undefined;
  #statusMessage = "";
  #error: PluginError | undefined;

  constructor(
    session: ClientHttp2Session,
    call: ClientCall,
    first: Encoded | undefined,
    maxReceive: number,
    onRelease: () => void,
  ) {
    this.#call = call;
    this.#decoder = new FrameDecoder(maxReceive, sessionBudget(session, sessionWindowBytes));
    this.#onRelease = onRelease;
    const options = call.options;
    const headers: Record<string, string> = {
      ...options?.headers,
      ":method": "POST",
      ":path": methodPath(call.method),
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (options?.timeoutMs !== undefined)
      headers["grpc-timeout"] = formatGrpcTimeout(options.timeoutMs);
    const stream = session.request(headers, { endStream: false });
    this.#stream = stream;
    stream.on("response", (h: IncomingHttpHeaders) => this.#onHeaders(h));
    stream.on("trailers", (h: IncomingHttpHeaders) => this.#onHeaders(h));
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("error", (error: Error) => {
      this.#error ??= new PluginError(
        "UNAVAILABLE",
        `connection to the plugin failed: ${error.message}`,
        { cause: error },
      );
    });
    stream.once("close", () => this.#onClose());
    if (first !== undefined) writeFrame(stream, first, true);
  }

  write(body: Encoded): Promise<void> | undefined {
    if (writeFrame(this.#stream, body, false)) return undefined;
    const stream = this.#stream;
    return new Promise((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.once("drain", done);
      stream.once("close", done);
    });
  }

  end(): void {
    this.#stream.end();
  }

  /** RST_STREAM CANCEL: the peer's handler sees its signal fire. */
  cancel(): void {
    if (!this.#stream.destroyed) this.#stream.close(http2Codes.NGHTTP2_CANCEL);
  }

  /** Resumes a paused stream once the consumer has caught up (not at every message it takes). */
  consumed(_bytes: number, queued: number): void {
    if (queued === 0 && this.#stream.isPaused()) this.#stream.resume();
  }

  release(): void {
    this.#decoder.discard();
    this.#onRelease();
  }

  #onHeaders(headers: IncomingHttpHeaders): void {
    const status = headers["grpc-status"];
    if (status !== undefined) {
      this.#status = Number(status);
      this.#statusMessage = decodeGrpcMessage(String(headers["grpc-message"] ?? ""));
      return;
    }
    const httpStatus = headers[":status"];
    if (httpStatus !== undefined && Number(httpStatus) !== 200) {
      this.#error ??= new PluginError("UNKNOWN", `peer answered HTTP ${httpStatus}, not gRPC`);
    }
  }

  #onData(chunk: Buffer): void {
    const call = this.#call;
    try {
      for (const payload of this.#decoder.push(chunk)) call.receive(payload);
    } catch (error) {
      call.fail(PluginError.from(error, "INTERNAL"));
      return;
    }
    if (call.queued >= highWaterMessages) this.#stream.pause();
  }

  #onClose(): void {
    const call = this.#call;
    if (call.done) return;
    if (this.#error !== undefined) {
      call.lost(this.#error);
    } else if (this.#status !== undefined) {
      call.receiveStatus(this.#status, this.#statusMessage);
    } else {
      const code = this.#stream.rstCode;
      call.lost(
        new PluginError(
          "UNAVAILABLE",
          code === undefined || code === http2Codes.NGHTTP2_NO_ERROR
            ? "the call ended without a gRPC status (connection lost)"
            : `the call was reset by the peer (HTTP/2 error ${code})`,
        ),
      );
    }
  }
}
