import type { Duplex } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { abortError, inheritCallOptions } from "../core/call-context.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize, encodeMessage } from "../core/codec.ts";
import { GrpcStatus } from "../core/status.ts";
import { startDeadlineTimer } from "../core/timeout.ts";
import type { CallOptions, Channel } from "../core/types.ts";
import { methodPath } from "../core/types.ts";
import { defaultMaxMessageBytes } from "../grpc/server.ts";
import { Credit, Inbox } from "./flow.ts";
import type { Frame } from "./frames.ts";
import {
  CallFlag,
  decodeStatus,
  encodeCallHead,
  encodeCredit,
  FrameReader,
  FrameType,
  FrameWriter,
  fastWirePreface,
  initialCreditBytes,
} from "./frames.ts";

export interface FastChannelOptions {
  /** Opens the byte stream the fast wire runs on: a unix socket, TCP, or TLS over either. */
  connect: () => Duplex;
  /** Largest message accepted from the peer. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message this side sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
}

/**
 * The client end of plugwire's fast wire (docs/fast-wire.md): the same calls as `RpcChannel`
 * (unary and the three streaming kinds, deadlines, cancellation, metadata, typed errors) on one
 * socket without HTTP/2. Opened lazily and reopened after it drops, like `RpcChannel`.
 */
export class FastChannel implements Channel {
  readonly #options: FastChannelOptions;
  readonly #maxReceive: number;
  readonly #maxSend: number;
  #connection: Connection | undefined;
  /** Every connection with calls on it: the current one, and older ones still finishing calls. */
  readonly #connections = new Set<Connection>();
  #closed: PluginError | undefined;

  constructor(options: FastChannelOptions) {
    this.#options = options;
    this.#maxReceive = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
    this.#maxSend = options.maxSendMessageBytes ?? defaultMaxMessageBytes;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Fails pending and future calls with `reason` and closes every connection. Idempotent. */
  close(reason = new PluginError("CLIENT_CLOSED", "the channel was closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const connection of this.#connections) connection.destroy(reason);
    this.#connections.clear();
    this.#connection = undefined;
  }

  #open(method: DescMethod, own: CallOptions | undefined): ClientCall {
    if (this.#closed !== undefined) throw this.#closed;
    const options = inheritCallOptions(own);
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal);
    let connection = this.#connection;
    if (connection === undefined || !connection.usable) {
      const opened: Connection = new Connection(this.#options.connect(), this.#maxReceive, () =>
        this.#connections.delete(opened),
      );
      this.#connections.add(opened);
      this.#connection = connection = opened;
    }
    return new ClientCall(connection, method, options, this.#maxSend);
  }

  async unary(method: DescMethod, request: unknown, options?: CallOptions): Promise<unknown> {
    const body = encodeMessage(method.input, request, this.#maxSend);
    const call = this.#open(method, options);
    call.start(CallFlag.message | CallFlag.end, body);
    return call.single();
  }

  async *serverStream(
    method: DescMethod,
    request: unknown,
    options?: CallOptions,
  ): AsyncGenerator<unknown> {
    const body = encodeMessage(method.input, request, this.#maxSend);
    const call = this.#open(method, options);
    call.start(CallFlag.message | CallFlag.end, body);
    yield* call.responses();
  }

  async clientStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): Promise<unknown> {
    const call = this.#open(method, options);
    call.start(0, undefined);
    void call.pump(requests);
    return call.single();
  }

  async *bidiStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): AsyncGenerator<unknown> {
    const call = this.#open(method, options);
    call.start(0, undefined);
    void call.pump(requests);
    yield* call.responses();
  }
}

/** Room for a frame's head on top of the largest message. */
const headRoomBytes = 64 * 1024;

/** One socket and the calls running on it. */
class Connection {
  readonly #socket: Duplex;
  readonly writer: FrameWriter;
  readonly #reader: FrameReader;
  readonly #calls = new Map<number, ClientCall>();
  #nextId = 1;
  #goaway = false;
  #error: Error | undefined;
  #ended = false;

  constructor(socket: Duplex, maxReceive: number, onClosed: () => void) {
    this.#socket = socket;
    this.writer = new FrameWriter(socket);
    this.#reader = new FrameReader(maxReceive + headRoomBytes, {
      frame: (frame) => this.#onFrame(frame),
      oversize: (type, id, length) => {
        if (type === FrameType.message || type === FrameType.reply) {
          this.#calls
            .get(id)
            ?.fail(
              new PluginError(
                "RESOURCE_EXHAUSTED",
                `received message larger than max (${length} vs. ${maxReceive})`,
              ),
              true,
            );
        }
      },
    });
    socket.write(fastWirePreface);
    socket.on("data", (chunk: Buffer) => {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
    });
    socket.once("close", () => {
      this.#ended = true;
      this.writer.close();
      const reason = new PluginError(
        "UNAVAILABLE",
        this.#error === undefined
          ? "the call ended without a status (connection lost)"
          : `connection to the plugin failed: ${this.#error.message}`,
        { cause: this.#error },
      );
      for (const call of this.#calls.values()) call.fail(reason, false);
      this.#calls.clear();
      onClosed();
    });
  }

  /** False once the server said goaway or the socket is gone: new calls need a new connection. */
  get usable(): boolean {
    return !this.#goaway && !this.#ended && !this.#socket.destroyed;
  }

  add(call: ClientCall): number {
    const id = this.#nextId++;
    if (this.#nextId > 0xffffffff) this.#goaway = true; // ids exhausted: the next call reconnects
    this.#calls.set(id, call);
    return id;
  }

  remove(id: number): void {
    this.#calls.delete(id);
    if (this.#goaway && this.#calls.size === 0) this.#socket.end();
  }

  destroy(reason: PluginError): void {
    for (const call of this.#calls.values()) call.fail(reason, false);
    this.#calls.clear();
    this.writer.close();
    this.#socket.destroy();
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FrameType.goaway) {
      this.#goaway = true;
      if (this.#calls.size === 0) this.#socket.end();
      return;
    }
    const call = this.#calls.get(frame.id);
    if (call === undefined) return; // a late frame of a call that already ended
    switch (frame.type) {
      case FrameType.reply:
        call.onReply(frame.payload);
        return;
      case FrameType.message:
        call.onMessage(frame.payload);
        return;
      case FrameType.status: {
        const { code, message } = decodeStatus(frame.payload);
        call.onStatus(code, message);
        return;
      }
      case FrameType.credit:
        call.onCredit(frame.payload.readUInt32BE(0));
        return;
      default:
        return;
    }
  }
}

class ClientCall {
  readonly #connection: Connection;
  readonly #method: DescMethod;
  readonly #options: CallOptions | undefined;
  readonly #maxSend: number;
  #id = 0;
  #done = false;
  #response: unknown;
  #error: PluginError | undefined;
  #settle: (() => void) | undefined;
  readonly #finished: Promise<void>;
  #inbox: Inbox<unknown> | undefined;
  #credit: Credit | undefined;
  #stopTimer: (() => void) | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    connection: Connection,
    method: DescMethod,
    options: CallOptions | undefined,
    maxSend: number,
  ) {
    this.#connection = connection;
    this.#method = method;
    this.#options = options;
    this.#maxSend = maxSend;
    this.#finished = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** Sends the call frame, carrying the request when `body` is given. */
  start(flags: number, body: Encoded | undefined): void {
    const options = this.#options;
    const id = this.#connection.add(this);
    this.#id = id;
    const kind = this.#method.methodKind;
    if (kind === "server_streaming" || kind === "bidi_streaming") {
      this.#inbox = new Inbox<unknown>((bytes) =>
        this.#connection.writer.frame(FrameType.credit, id, encodeCredit(bytes)),
      );
    }
    const timeoutMs = options?.timeoutMs;
    // A deadline beyond what the u32 field holds (≈ 49.7 days) is not sent: the handler runs
    // without one rather than being aborted early, and this side still enforces it.
    const sentTimeoutMs =
      timeoutMs !== undefined && timeoutMs <= 0xffffffff ? timeoutMs : undefined;
    this.#connection.writer.frame(
      FrameType.call,
      id,
      encodeCallHead(methodPath(this.#method), flags, sentTimeoutMs, options?.headers),
      body,
    );
    const signal = options?.signal;
    if (signal !== undefined) {
      const onAbort = () => this.fail(abortError(signal), true);
      this.#onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () =>
        this.fail(
          new PluginError("DEADLINE_EXCEEDED", `deadline of ${timeoutMs} ms exceeded`),
          true,
        ),
      );
    }
  }

  /** Ends the call locally with `error`; `tell` sends the server a cancel frame. */
  fail(error: PluginError, tell: boolean): void {
    if (this.#done) return;
    this.#error = error;
    if (tell) this.#connection.writer.frame(FrameType.cancel, this.#id);
    this.#inbox?.fail(error);
    this.#finish();
  }

  onReply(payload: Buffer): void {
    if (this.#inbox !== undefined) {
      // A protocol violation: a streaming response ends with a status frame, never a reply.
      this.fail(
        new PluginError(
          "INTERNAL",
          "the plugin answered a streaming call with a reply frame (a fast-wire protocol violation)",
        ),
        true,
      );
      return;
    }
    try {
      this.#response = fromBinary(this.#method.output, payload);
    } catch (error) {
      this.#error = new PluginError("INTERNAL", `cannot decode response: ${String(error)}`, {
        cause: error,
      });
    }
    this.#finish();
  }

  onMessage(payload: Buffer): void {
    const inbox = this.#inbox;
    if (inbox === undefined) {
      this.fail(new PluginError("INTERNAL", "a stream message arrived for a unary response"), true);
      return;
    }
    if (!inbox.acceptsMore) {
      // The plugin sent beyond the window this side granted: reset the call instead of
      // buffering whatever it sends (a plugin may not make the host hold unbounded data).
      this.fail(
        new PluginError(
          "RESOURCE_EXHAUSTED",
          `the plugin sent beyond its flow-control window of ${initialCreditBytes} bytes on this stream`,
        ),
        true,
      );
      return;
    }
    try {
      inbox.push(fromBinary(this.#method.output, payload), payload.byteLength);
    } catch (error) {
      this.fail(PluginError.from(error, "INTERNAL"), true);
    }
  }

  onStatus(code: number, message: string): void {
    if (code !== GrpcStatus.OK) {
      this.#error = PluginError.fromStatus(code, message);
      this.#inbox?.end(this.#error);
    } else if (this.#inbox === undefined) {
      this.#error = new PluginError("UNIMPLEMENTED", "expected one response message, got 0");
    } else {
      this.#inbox.end();
    }
    this.#finish();
  }

  onCredit(bytes: number): void {
    this.#credit?.add(bytes);
  }

  /** Ends the call for good; a response stream still open ends too, so no reader waits forever. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#inbox !== undefined && !this.#inbox.ended) {
      this.#inbox.end(
        this.#error ??
          new PluginError("INTERNAL", "the call ended without a status for its stream"),
      );
    }
    this.#stopTimer?.();
    if (this.#onAbort !== undefined)
      this.#options?.signal?.removeEventListener("abort", this.#onAbort);
    this.#credit?.release();
    this.#connection.remove(this.#id);
    this.#settle?.();
  }

  async single(): Promise<unknown> {
    await this.#finished;
    if (this.#error !== undefined) throw this.#error;
    return this.#response;
  }

  async pump(messages: AsyncIterable<unknown>): Promise<void> {
    const credit = new Credit();
    this.#credit = credit;
    const writer = this.#connection.writer;
    try {
      for await (const message of messages) {
        if (this.#done) return;
        const body = encodeMessage(this.#method.input, message, this.#maxSend);
        if (!credit.available) {
          await credit.wait();
          if (this.#done) return;
        }
        credit.spend(encodedSize(body));
        writer.frame(FrameType.message, this.#id, undefined, body);
      }
      if (!this.#done) writer.frame(FrameType.end, this.#id);
    } catch (error) {
      this.fail(PluginError.from(error, "CANCELLED"), true);
    }
  }

  async *responses(): AsyncGenerator<unknown> {
    try {
      yield* this.#inbox!;
    } finally {
      // The consumer stopped early (break/return): cancel the call so the server stops too.
      if (!this.#done)
        this.fail(new PluginError("CANCELLED", "the caller stopped reading the stream"), true);
    }
  }
}
