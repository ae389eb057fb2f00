import { once } from "node:events";
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import type { Duplex } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { abortError, inheritCallOptions } from "../core/call-context.ts";
import type { Encoded } from "../core/codec.ts";
import { encodeMessage } from "../core/codec.ts";
import { decodeGrpcMessage, GrpcStatus, http2Codes } from "../core/status.ts";
import { formatGrpcTimeout, startDeadlineTimer } from "../core/timeout.ts";
import type { CallOptions, Channel } from "../core/types.ts";
import { methodPath } from "../core/types.ts";
import { FrameDecoder, writeFrame } from "./framing.ts";
import { defaultMaxMessageBytes } from "./server.ts";

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
 * calls of all four kinds. `close(reason)` fails every pending call with `reason`.
 */
export class RpcChannel implements Channel {
  readonly #options: RpcChannelOptions;
  readonly #maxReceive: number;
  readonly #maxSend: number;
  readonly #calls = new Set<ClientCall>();
  #session: ClientHttp2Session | undefined;
  #closed: PluginError | undefined;
  readonly #probing = new WeakSet<ClientHttp2Session>();

  constructor(options: RpcChannelOptions) {
    this.#options = options;
    this.#maxReceive = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
    this.#maxSend = options.maxSendMessageBytes ?? defaultMaxMessageBytes;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Fails pending and future calls with `reason` and closes the connection. Idempotent. */
  close(reason = new PluginError("CLIENT_CLOSED", "the channel was closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const call of this.#calls) call.fail(reason);
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
    if (this.#closed !== undefined || session.destroyed || this.#probing.has(session)) return;
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

  /**
   * Opens a call; the caller writes requests and reads responses through the returned object.
   * @internal
   */
  start(method: DescMethod, ownOptions: CallOptions | undefined): ClientCall {
    if (this.#closed !== undefined) throw this.#closed;
    const options = inheritCallOptions(ownOptions);
    let session: ClientHttp2Session | undefined;
    const call = new ClientCall(method, this.#maxReceive, this.#maxSend, options, () => {
      this.#calls.delete(call);
      if (call.endedLocally && session !== undefined) this.#probe(session);
    });
    this.#calls.add(call);
    try {
      session = this.#getSession();
      call.open(session);
    } catch (error) {
      // No stream was opened (the connection could not even be attempted): nothing to clean up.
      this.#calls.delete(call);
      throw PluginError.from(error, "UNAVAILABLE");
    }
    return call;
  }

  async unary(method: DescMethod, request: unknown, options?: CallOptions): Promise<unknown> {
    const call = this.start(method, options);
    call.sendLast(request);
    return call.single();
  }

  async *serverStream(
    method: DescMethod,
    request: unknown,
    options?: CallOptions,
  ): AsyncGenerator<unknown> {
    const call = this.start(method, options);
    call.sendLast(request);
    yield* call.responses();
  }

  async clientStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): Promise<unknown> {
    const call = this.start(method, options);
    void call.pump(requests);
    return call.single();
  }

  async *bidiStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): AsyncGenerator<unknown> {
    const call = this.start(method, options);
    void call.pump(requests);
    yield* call.responses();
  }
}

/** Responses buffered before the consumer slows the peer down (HTTP/2 flow control does the rest). */
const highWaterMessages = 16;

class ClientCall {
  readonly #method: DescMethod;
  readonly #decoder: FrameDecoder;
  readonly #maxSend: number;
  readonly #options: CallOptions | undefined;
  readonly #onDone: () => void;
  #stream!: ClientHttp2Stream;
  #messages: unknown[] = [];
  #wake: (() => void) | undefined;
  #status: number | undefined;
  #statusMessage = "";
  #error: PluginError | undefined;
  #done = false;
  #endedLocally = false;
  #stopTimer: (() => void) | undefined;
  readonly #startedAt = performance.now();
  readonly #finished: Promise<void>;
  #resolveFinished!: () => void;

  constructor(
    method: DescMethod,
    maxReceive: number,
    maxSend: number,
    options: CallOptions | undefined,
    onDone: () => void,
  ) {
    this.#method = method;
    this.#decoder = new FrameDecoder(maxReceive);
    this.#maxSend = maxSend;
    this.#options = options;
    this.#onDone = onDone;
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  open(session: ClientHttp2Session): void {
    const options = this.#options;
    const headers: Record<string, string> = {
      ...options?.headers,
      ":method": "POST",
      ":path": methodPath(this.#method),
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (options?.timeoutMs !== undefined)
      headers["grpc-timeout"] = formatGrpcTimeout(options.timeoutMs);
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal);
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
    if (signal !== undefined) {
      const onAbort = () => this.fail(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      void this.#finished.then(() => signal.removeEventListener("abort", onAbort));
    }
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () =>
        this.fail(new PluginError("DEADLINE_EXCEEDED", `deadline of ${timeoutMs} ms exceeded`)),
      );
    }
  }

  /** Ends the call locally with `error` (cancel, deadline, plugin gone); the peer sees RST_STREAM CANCEL. */
  fail(error: PluginError): void {
    if (this.#done) return;
    this.#endedLocally = true;
    this.#error = error;
    this.#status = undefined;
    if (!this.#stream.destroyed) this.#stream.close(http2Codes.NGHTTP2_CANCEL);
    this.#finish();
  }

  /** The call was ended on this side (deadline, cancel, channel closed), not by the peer. */
  get endedLocally(): boolean {
    return this.#endedLocally;
  }

  #encode(message: unknown): Encoded {
    return encodeMessage(this.#method.input, message, this.#maxSend);
  }

  sendLast(message: unknown): void {
    writeFrame(this.#stream, this.#encode(message), true);
  }

  async pump(messages: AsyncIterable<unknown>): Promise<void> {
    const stream = this.#stream;
    try {
      for await (const message of messages) {
        if (this.#done) return;
        if (!writeFrame(stream, this.#encode(message), false)) {
          await Promise.race([once(stream, "drain"), this.#finished]);
        }
      }
      if (!this.#done) stream.end();
    } catch (error) {
      this.fail(PluginError.from(error, "CANCELLED"));
    }
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
    try {
      for (const payload of this.#decoder.push(chunk))
        this.#messages.push(fromBinary(this.#method.output, payload));
    } catch (error) {
      this.fail(PluginError.from(error, "INTERNAL"));
      return;
    }
    if (this.#messages.length >= highWaterMessages) this.#stream.pause();
    this.#wake?.();
  }

  #onClose(): void {
    if (this.#done) return;
    const timeoutMs = this.#options?.timeoutMs;
    if (
      this.#status === undefined &&
      this.#error === undefined &&
      timeoutMs !== undefined &&
      performance.now() >= this.#startedAt + timeoutMs - 1
    ) {
      // The peer's deadline fired (and it reset the stream) a moment before ours did.
      this.#error = new PluginError("DEADLINE_EXCEEDED", `deadline of ${timeoutMs} ms exceeded`);
    }
    if (this.#status === undefined && this.#error === undefined) {
      const code = this.#stream.rstCode;
      this.#error = new PluginError(
        "UNAVAILABLE",
        code === undefined || code === http2Codes.NGHTTP2_NO_ERROR
          ? "the call ended without a gRPC status (connection lost)"
          : `the call was reset by the peer (HTTP/2 error ${code})`,
      );
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stopTimer?.();
    this.#onDone();
    this.#resolveFinished();
    this.#wake?.();
  }

  #outcome(): PluginError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#status !== undefined && this.#status !== GrpcStatus.OK) {
      return PluginError.fromStatus(this.#status, this.#statusMessage);
    }
    return undefined;
  }

  async single(): Promise<unknown> {
    await this.#finished;
    const error = this.#outcome();
    if (error !== undefined) throw error;
    if (this.#messages.length !== 1) {
      throw new PluginError(
        "UNIMPLEMENTED",
        `expected one response message, got ${this.#messages.length}`,
      );
    }
    return this.#messages[0];
  }

  async *responses(): AsyncGenerator<unknown> {
    try {
      for (;;) {
        if (this.#messages.length > 0) {
          const batch = this.#messages;
          this.#messages = [];
          if (!this.#done) this.#stream.resume();
          yield* batch;
          continue;
        }
        if (this.#done) break;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
      const error = this.#outcome();
      if (error !== undefined) throw error;
    } finally {
      // The consumer stopped early (break/return): cancel the call so the peer stops too.
      if (!this.#done)
        this.fail(new PluginError("CANCELLED", "the caller stopped reading the stream"));
    }
  }
}
