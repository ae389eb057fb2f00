import type { Duplex } from "node:stream";
import { fromBinary } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { currentCall } from "../core/call-context.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize, encodeMessage } from "../core/codec.ts";
import { GrpcStatus } from "../core/status.ts";
import { startDeadlineTimer } from "../core/timeout.ts";
import type { HandlerContext } from "../core/types.ts";
import type { Route, RpcServer } from "../grpc/server.ts";
import { Credit, Inbox } from "./flow.ts";
import type { Frame, FrameTypeNumber } from "./frames.ts";
import {
  CallFlag,
  decodeCallHead,
  encodeCredit,
  encodeStatus,
  FrameReader,
  FrameType,
  FrameWriter,
  initialCreditBytes,
} from "./frames.ts";

/** Room for a call frame's head on top of the largest message. */
const headRoomBytes = 64 * 1024;

/** How long a connection told goaway for idleness may take to close before it is destroyed. */
const idleGraceMs = 1000;

/**
 * The server end of one fast-wire connection: runs every call the client opens on the
 * RpcServer's handlers, with the same context (signal, deadline, broker) gRPC calls get.
 *
 * Everything a client can make it hold is bounded (docs/fast-wire.md, "Limits and faults"):
 * frames are buffered as their bytes arrive, never by the length a header announces; a
 * streaming call's messages by the credit window; calls by `maxConcurrentCalls`; replies by the
 * socket (reading stops while the client does not read); time by the idle timeout.
 */
export class FastServerConnection {
  readonly #rpc: RpcServer;
  readonly #socket: Duplex;
  readonly #writer: FrameWriter;
  readonly #reader: FrameReader;
  readonly #calls = new Map<number, ServerCall>();
  #draining: (() => void) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleGoawaySent = false;
  #failed = false;
  #readingPaused = false;
  #closeTimer: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;

  /** `initial`: bytes already read after the preface. */
  constructor(rpc: RpcServer, socket: Duplex, initial?: Buffer) {
    this.#rpc = rpc;
    this.#socket = socket;
    this.#writer = new FrameWriter(socket, () => this.#pauseReading());
    this.#reader = new FrameReader(rpc.maxReceiveMessageBytes + headRoomBytes, {
      frame: (frame) => this.#onFrame(frame),
      oversize: (type, id, length) => {
        if (type === FrameType.call || type === FrameType.message) {
          const call = this.#calls.get(id);
          const message = `received message larger than max (${length} vs. ${rpc.maxReceiveMessageBytes})`;
          if (call !== undefined) call.fail(GrpcStatus.RESOURCE_EXHAUSTED, message);
          else this.status(id, GrpcStatus.RESOURCE_EXHAUSTED, message);
        } else {
          this.#protocolError(`a frame of type ${type} announced ${length} bytes`);
        }
      },
    });
    const receive = (chunk: Buffer) => {
      if (this.#failed) return;
      try {
        this.#reader.push(chunk);
      } catch (error) {
        // A malformed frame: the stream cannot be resynchronised.
        this.#protocolError(`malformed frame: ${String(error)}`);
      }
    };
    // A dropped connection surfaces through 'close'; an unhandled 'error' would crash the plugin.
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.#writer.close();
        clearTimeout(this.#idleTimer);
        clearTimeout(this.#closeTimer);
        for (const call of this.#calls.values()) call.cancel("the connection to the host closed");
        this.#calls.clear();
        resolve();
      });
    });
    this.#armIdle();
    if (initial !== undefined && initial.byteLength > 0) receive(initial);
    socket.on("data", receive);
  }

  /** What this connection holds for its client, for limits and tests. */
  get stats(): { calls: number; bufferedBytes: number } {
    let bufferedBytes = this.#reader.bufferedBytes;
    for (const call of this.#calls.values()) bufferedBytes += call.bufferedBytes;
    return { calls: this.#calls.size, bufferedBytes };
  }

  /** Queues a frame for the client. */
  write(type: FrameTypeNumber, id: number, head?: Buffer, body?: Encoded): void {
    this.#writer.frame(type, id, head, body);
  }

  status(id: number, code: number, message: string): void {
    this.#writer.frame(FrameType.status, id, encodeStatus(code, message));
  }

  /** Called by a call when it has sent its last frame or was cancelled. */
  release(id: number): void {
    this.#calls.delete(id);
    if (this.#calls.size === 0) {
      this.#draining?.();
      this.#armIdle();
    }
  }

  /** With no call running: after `idleTimeoutMs` a goaway, after a grace the end. */
  #armIdle(): void {
    const idleMs = this.#rpc.idleTimeoutMs;
    if (idleMs <= 0 || this.#calls.size > 0 || this.#socket.destroyed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(
      () => {
        if (this.#calls.size > 0) return;
        if (this.#idleGoawaySent) {
          this.#socket.destroy();
          return;
        }
        // Our client ends the connection on a goaway with no call open; a call it sent before
        // seeing the goaway is still served.
        this.#idleGoawaySent = true;
        this.#writer.frame(FrameType.goaway, 0);
        this.#armIdle();
      },
      this.#idleGoawaySent ? idleGraceMs : idleMs,
    );
    this.#idleTimer.unref();
  }

  /**
   * The client broke the protocol: tell it why in a goaway, cancel every call, close. Nothing
   * more is read from it.
   */
  #protocolError(reason: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#writer.frame(FrameType.goaway, 0, encodeStatus(GrpcStatus.INTERNAL, reason));
    this.#writer.flush();
    this.#writer.close();
    for (const call of this.#calls.values()) call.cancel(`protocol error: ${reason}`);
    this.#socket.end();
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), idleGraceMs);
    this.#closeTimer.unref();
  }

  /** The socket is full (the client is not reading): read nothing more until it drains. */
  #pauseReading(): void {
    if (this.#readingPaused || this.#failed) return;
    this.#readingPaused = true;
    this.#socket.pause();
    this.#socket.once("drain", () => {
      this.#readingPaused = false;
      this.#socket.resume();
    });
  }

  /**
   * Tells the client to open no more calls, lets running ones finish for `graceMs`, then closes.
   */
  async close(graceMs: number): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.#writer.frame(FrameType.goaway, 0);
    if (this.#calls.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#draining = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#writer.flush();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.call:
        this.#open(frame);
        return;
      case FrameType.message:
        this.#calls.get(frame.id)?.onMessage(frame.payload);
        return;
      case FrameType.end:
        this.#calls.get(frame.id)?.onEnd();
        return;
      case FrameType.cancel:
        this.#calls.get(frame.id)?.cancel("call cancelled by the caller");
        return;
      case FrameType.credit:
        this.#calls.get(frame.id)?.onCredit(frame.payload.readUInt32BE(0));
        return;
      default:
        return; // unknown frame types are ignored, so the wire can grow
    }
  }

  #open(frame: Frame): void {
    const id = frame.id;
    if (this.#calls.has(id)) {
      this.#protocolError(`call id ${id} is already in use`);
      return;
    }
    const limit = this.#rpc.maxConcurrentCalls;
    if (this.#calls.size >= limit) {
      this.status(
        id,
        GrpcStatus.RESOURCE_EXHAUSTED,
        `too many concurrent calls on this connection (limit ${limit})`,
      );
      return;
    }
    let head: ReturnType<typeof decodeCallHead>;
    try {
      head = decodeCallHead(frame.payload);
    } catch (error) {
      this.status(id, GrpcStatus.INTERNAL, `malformed call frame: ${String(error)}`);
      return;
    }
    const route = this.#rpc.route(head.path);
    if (typeof route === "string") {
      this.status(id, GrpcStatus.UNIMPLEMENTED, route);
      return;
    }
    const call = new ServerCall(this, this.#rpc, id, route, head.path, head.timeoutMs, {
      ...head.metadata,
      ":path": head.path,
    });
    this.#calls.set(id, call);
    clearTimeout(this.#idleTimer);
    const kind = route.method.methodKind;
    const hasMessage = (head.flags & CallFlag.message) !== 0;
    if (kind === "unary" || kind === "server_streaming") {
      if (!hasMessage || (head.flags & CallFlag.end) === 0) {
        call.fail(GrpcStatus.INTERNAL, "expected exactly one request message in the call frame");
        return;
      }
      let request: unknown;
      try {
        request = fromBinary(route.method.input, frame.payload.subarray(head.messageOffset));
      } catch (error) {
        call.fail(GrpcStatus.INTERNAL, `cannot decode request: ${String(error)}`);
        return;
      }
      call.run(request);
      return;
    }
    call.run(undefined);
    if (hasMessage) call.onMessage(frame.payload.subarray(head.messageOffset));
    if ((head.flags & CallFlag.end) !== 0) call.onEnd();
  }
}

type AnyHandler = (input: unknown, context: HandlerContext) => unknown;

class ServerCall {
  readonly #connection: FastServerConnection;
  readonly #rpc: RpcServer;
  readonly #id: number;
  readonly #route: Route;
  readonly #path: string;
  readonly #controller = new AbortController();
  readonly #context: HandlerContext;
  readonly #untrack: () => void;
  #stopTimer: (() => void) | undefined;
  #inbox: Inbox<unknown> | undefined;
  #credit: Credit | undefined;
  #done = false;

  constructor(
    connection: FastServerConnection,
    rpc: RpcServer,
    id: number,
    route: Route,
    path: string,
    timeoutMs: number | undefined,
    headers: Record<string, string>,
  ) {
    this.#connection = connection;
    this.#rpc = rpc;
    this.#id = id;
    this.#route = route;
    this.#path = path;
    this.#untrack = rpc.track(this.#controller);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.#context = {
      signal: this.#controller.signal,
      deadline,
      requestHeaders: headers,
      timeRemainingMs: () =>
        deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
      broker: rpc.broker,
    };
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () => {
        this.#controller.abort(new PluginError("DEADLINE_EXCEEDED", "deadline exceeded"));
        this.fail(GrpcStatus.DEADLINE_EXCEEDED, "context deadline exceeded");
      });
    }
  }

  /** Starts the handler; `request` is the request of unary and server-streaming calls. */
  run(request: unknown): void {
    const kind = this.#route.method.methodKind;
    let input = request;
    if (kind === "client_streaming" || kind === "bidi_streaming") {
      const inbox = new Inbox<unknown>((bytes) =>
        this.#connection.write(FrameType.credit, this.#id, encodeCredit(bytes)),
      );
      this.#inbox = inbox;
      input = inbox;
    }
    currentCall
      .run(this.#context, () => this.#invoke(this.#route.handler, input))
      .catch((error: unknown) => {
        if (this.#done) return;
        const failure = this.#rpc.failure(error, this.#path);
        this.fail(failure.status, failure.message);
      });
  }

  async #invoke(handler: AnyHandler, input: unknown): Promise<void> {
    const kind = this.#route.method.methodKind;
    const result = handler(input, this.#context);
    if (kind === "unary" || kind === "client_streaming") {
      const response = await result;
      if (this.#done) return;
      const body = encodeMessage(
        this.#route.method.output,
        response,
        this.#rpc.maxSendMessageBytes,
      );
      this.#finish();
      this.#connection.write(FrameType.reply, this.#id, undefined, body);
      return;
    }
    const credit = new Credit();
    this.#credit = credit;
    for await (const message of result as AsyncIterable<unknown>) {
      if (this.#done) return;
      const body = encodeMessage(this.#route.method.output, message, this.#rpc.maxSendMessageBytes);
      if (!credit.available) {
        await credit.wait();
        if (this.#done) return;
      }
      credit.spend(encodedSize(body));
      this.#connection.write(FrameType.message, this.#id, undefined, body);
    }
    if (this.#done) return;
    this.#finish();
    this.#connection.status(this.#id, GrpcStatus.OK, "");
  }

  /** Bytes of the client's messages this call holds. */
  get bufferedBytes(): number {
    return this.#inbox?.bufferedBytes ?? 0;
  }

  onMessage(payload: Buffer): void {
    const inbox = this.#inbox;
    if (inbox === undefined || this.#done) return;
    if (!inbox.acceptsMore) {
      this.fail(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `the client sent beyond its flow-control window of ${initialCreditBytes} bytes`,
      );
      return;
    }
    try {
      inbox.push(fromBinary(this.#route.method.input, payload), payload.byteLength);
    } catch (error) {
      this.fail(GrpcStatus.INTERNAL, `cannot decode request: ${String(error)}`);
    }
  }

  onEnd(): void {
    this.#inbox?.end();
  }

  onCredit(bytes: number): void {
    this.#credit?.add(bytes);
  }

  /** Ends the call with a status; a handler still running sees its signal fire. */
  fail(status: number, message: string): void {
    if (this.#done) return;
    this.#finish(new PluginError("CANCELLED", `the call ended: ${message}`));
    this.#connection.status(this.#id, status, message);
  }

  /** The caller went away: abort the handler, send nothing. */
  cancel(reason: string): void {
    if (this.#done) return;
    this.#finish(new PluginError("CANCELLED", reason));
  }

  /** Marks the call done; `abortReason` when it did not end by the handler's own completion. */
  #finish(abortReason?: PluginError): void {
    this.#done = true;
    this.#stopTimer?.();
    this.#untrack();
    this.#connection.release(this.#id);
    this.#credit?.release();
    if (abortReason === undefined) {
      this.#inbox?.end();
      return;
    }
    this.#inbox?.fail(abortReason);
    if (!this.#controller.signal.aborted) this.#controller.abort(abortReason);
  }
}
