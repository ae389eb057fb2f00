import type { Duplex } from "node:stream";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { keep, readFrom } from "../../internal/borrowed-reads.ts";
import { IdTable } from "../../internal/id-table.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";
import type { Router } from "../core/router.ts";
import type { ServerCall, ServerStream } from "../core/server-call.ts";
import { Credit, ReceiveWindow, TurnBudget } from "./flow.ts";
import type { Frame, FrameTypeNumber } from "./frames.ts";
import { CallFlag, FrameReader, FrameType, FrameWriter, initialCreditBytes } from "./frames.ts";
import { decodeCallHead, encodeCredit, encodeStatus } from "./payloads.ts";

/** Room for a call frame's head on top of the largest message. */
const headRoomBytes = 64 * 1024;

/** How long a connection told goaway for idleness may take to close before it is destroyed. */
const idleGraceMs = 1000;

/**
 * The server end of one fast-wire connection: frames the calls the client opens and hands each
 * to the router (../core/router.ts), which serves it as it serves a gRPC call.
 *
 * Everything a client can make it hold is bounded (docs/fast-wire.md, "Limits and faults"):
 * frames are buffered as their bytes arrive, never by the length a header announces; a
 * streaming call's messages by the credit window; calls by `maxConcurrentCalls`; replies by the
 * socket (reading stops while the client does not read); time by the idle timeout.
 */
export class FastServerConnection {
  readonly #router: Router;
  readonly #socket: Duplex;
  readonly #writer: FrameWriter;
  /** What this connection's streams sent in this turn of the event loop. @internal */
  readonly turn = new TurnBudget();
  readonly #reader: FrameReader;
  /** By call id; an IdTable, not a Map (docs/performance.md §27). */
  readonly #calls = new IdTable<FastServerStream>();
  #draining: (() => void) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleGoawaySent = false;
  #failed = false;
  #readingPaused = false;
  #closeTimer: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;

  /** `initial`: bytes already read after the preface. */
  constructor(router: Router, socket: Duplex, initial?: Buffer) {
    this.#router = router;
    const maxReceive = router.limits.maxReceiveMessageBytes;
    this.#socket = socket;
    this.#writer = new FrameWriter(socket, () => this.#pauseReading());
    this.#reader = new FrameReader(maxReceive + headRoomBytes, {
      frame: (frame) => this.#onFrame(frame),
      oversize: (type, id, length) => {
        if (type === FrameType.call || type === FrameType.message) {
          const call = this.#calls.get(id)?.call;
          const message = `received message larger than max (${length} vs. ${maxReceive})`;
          if (call !== undefined) call.fail(GrpcStatus.RESOURCE_EXHAUSTED, message);
          else this.status(id, GrpcStatus.RESOURCE_EXHAUSTED, message);
        } else {
          this.#protocolError(`a frame of type ${type} announced ${length} bytes`);
        }
      },
    });
    const receive = (chunk: Buffer, borrowed: boolean) => {
      if (this.#failed) return;
      try {
        this.#reader.push(chunk, borrowed);
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
        for (const stream of this.#calls.values())
          stream.call?.cancel("the connection to the host closed");
        this.#calls.clear();
        resolve();
      });
    });
    this.#armIdle();
    if (initial !== undefined && initial.byteLength > 0) receive(initial, false);
    // Reads land in one reused buffer when the listener made the socket so (§22).
    readFrom(socket, receive);
  }

  /** What this connection holds for its client, for limits and tests. */
  get stats(): { calls: number; bufferedBytes: number } {
    let bufferedBytes = this.#reader.bufferedBytes;
    for (const stream of this.#calls.values()) bufferedBytes += stream.bufferedBytes;
    return { calls: this.#calls.size, bufferedBytes };
  }

  /**
   * Queues a frame for the client.
   * @internal
   */
  write(type: FrameTypeNumber, id: number, head?: Buffer, body?: Encoded): void {
    this.#writer.frame(type, id, head, body);
  }

  /** @internal */
  status(id: number, code: number, message: string): void {
    this.#writer.frame(FrameType.status, id, encodeStatus(code, message));
  }

  /**
   * Called by a call when it has sent its last frame or was cancelled.
   * @internal
   */
  release(id: number): void {
    this.#calls.delete(id);
    if (this.#calls.size === 0) {
      this.#draining?.();
      this.#armIdle();
    }
  }

  /** With no call running: after `idleTimeoutMs` a goaway, after a grace the end. */
  #armIdle(): void {
    const idleMs = this.#router.limits.idleTimeoutMs;
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
    for (const stream of this.#calls.values()) stream.call?.cancel(`protocol error: ${reason}`);
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
        this.#calls.get(frame.id)?.onMessage(keep(frame.payload, frame.borrowed));
        return;
      case FrameType.end:
        this.#calls.get(frame.id)?.call?.endRequests();
        return;
      case FrameType.cancel:
        this.#calls.get(frame.id)?.call?.cancel("call cancelled by the caller");
        return;
      case FrameType.credit:
        this.#calls.get(frame.id)?.credit?.add(frame.payload.readUInt32BE(0));
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
    const limit = this.#router.limits.maxConcurrentCalls;
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
    const stream = new FastServerStream(this, id);
    this.#calls.set(id, stream);
    clearTimeout(this.#idleTimer);
    const call = this.#router.open(
      {
        path: head.path,
        timeoutMs: head.timeoutMs,
        headers: { ...head.metadata, ":path": head.path },
      },
      stream,
    );
    if (call === undefined) {
      stream.release(); // answered already (UNIMPLEMENTED)
      return;
    }
    stream.call = call;
    const hasMessage = (head.flags & CallFlag.message) !== 0;
    const kind = call.kind;
    if (
      (kind === "unary" || kind === "server_streaming") &&
      (!hasMessage || (head.flags & CallFlag.end) === 0)
    ) {
      call.fail(GrpcStatus.INTERNAL, "expected exactly one request message in the call frame");
      return;
    }
    if (hasMessage)
      stream.onMessage(keep(frame.payload.subarray(head.messageOffset), frame.borrowed));
    if ((head.flags & CallFlag.end) !== 0) call.endRequests();
  }
}

/**
 * One served call's frames: its id, the credit it sends with, the window it grants. A unary call
 * needs neither (its request is in the call frame, its response one reply frame): they are made
 * only for the streaming kinds, once the router has the call.
 */
class FastServerStream implements ServerStream {
  readonly #connection: FastServerConnection;
  readonly #id: number;
  credit: Credit | undefined;
  #window: ReceiveWindow | undefined;
  #call: ServerCall | undefined;

  constructor(connection: FastServerConnection, id: number) {
    this.#connection = connection;
    this.#id = id;
  }

  /** The call the router opened; undefined while it is being routed or when it was refused. */
  get call(): ServerCall | undefined {
    return this.#call;
  }

  set call(call: ServerCall) {
    this.#call = call;
    const kind = call.kind;
    if (kind !== "unary") this.credit = new Credit();
    if (call.streamsRequests) {
      const connection = this.#connection;
      const id = this.#id;
      this.#window = new ReceiveWindow((bytes) =>
        connection.write(FrameType.credit, id, encodeCredit(bytes)),
      );
    }
  }

  /** Bytes of the client's messages this call holds. */
  get bufferedBytes(): number {
    return this.#window?.bufferedBytes ?? 0;
  }

  onMessage(payload: Buffer): void {
    const call = this.#call;
    if (call === undefined || call.done) return;
    const window = this.#window;
    if (window !== undefined) {
      if (!window.acceptsMore) {
        call.fail(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `the client sent beyond its flow-control window of ${initialCreditBytes} bytes`,
        );
        return;
      }
      window.received(payload.byteLength);
    }
    call.receive(payload);
  }

  send(body: Encoded): Promise<void> | undefined {
    if (this.credit!.available) return this.#sendNow(body);
    return this.credit!.wait().then(() => {
      if (this.#call?.done !== true) return this.#sendNow(body);
    });
  }

  /** Sends now; a promise when the handler should wait for the next turn of the event loop. */
  #sendNow(body: Encoded): Promise<void> | undefined {
    const size = encodedSize(body);
    this.credit!.spend(size);
    this.#connection.write(FrameType.message, this.#id, undefined, body);
    return this.#connection.turn.spend(size);
  }

  reply(body: Encoded): void {
    this.#connection.write(FrameType.reply, this.#id, undefined, body);
  }

  finish(status: number, message: string): void {
    this.#connection.status(this.#id, status, message);
  }

  consumed(bytes: number): void {
    this.#window?.taken(bytes);
  }

  release(): void {
    this.credit?.release();
    this.#connection.release(this.#id);
  }
}
