import type { OnReadOpts } from "node:net";
import type { Duplex } from "node:stream";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { keep, reusedReadBuffer } from "../../internal/borrowed-reads.ts";
import { IdTable } from "../../internal/id-table.ts";
import { CallChannel, type ClientWire } from "../core/call-channel.ts";
import type { ClientCall, ClientStream } from "../core/client-call.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";
import { defaultMaxMessageBytes } from "../core/limits.ts";
import { methodPath } from "../core/types.ts";
import { Credit, ReceiveWindow, TurnBudget } from "./flow.ts";
import type { Frame } from "./frames.ts";
import {
  CallFlag,
  FrameReader,
  FrameType,
  FrameWriter,
  fastWirePreface,
  initialCreditBytes,
} from "./frames.ts";
import { decodeStatus, encodeCallHead, encodeCredit } from "./payloads.ts";

export interface FastChannelOptions {
  /**
   * Opens the byte stream the fast wire runs on: a unix socket, TCP, or TLS over either. A socket
   * should be made with `onread` (reads land in the connection's own buffer); a stream that
   * cannot take it emits 'data' as usual.
   */
  connect: (onread?: OnReadOpts) => Duplex;
  /** Largest message accepted from the peer. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message this side sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
}

/**
 * The client end of plugwire's fast wire (docs/fast-wire.md): the same calls as `RpcChannel`
 * (the call core does them, ../core/call-channel.ts) framed on one socket without HTTP/2.
 * Opened lazily and reopened after it drops.
 */
export class FastChannel extends CallChannel {
  constructor(options: FastChannelOptions) {
    super(new FastWire(options), options);
  }
}

/** Opens calls on the current connection, a new one when it is gone or told goaway. */
class FastWire implements ClientWire {
  readonly name = "fast";
  readonly #options: FastChannelOptions;
  readonly #maxReceive: number;
  #connection: Connection | undefined;
  /** Every connection with calls on it: the current one, and older ones still finishing calls. */
  readonly #connections = new Set<Connection>();

  constructor(options: FastChannelOptions) {
    this.#options = options;
    this.#maxReceive = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
  }

  open(call: ClientCall, first: Encoded | undefined): ClientStream {
    let connection = this.#connection;
    if (connection === undefined || !connection.usable) {
      const opened: Connection = new Connection(this.#options.connect, this.#maxReceive, () =>
        this.#connections.delete(opened),
      );
      this.#connections.add(opened);
      this.#connection = connection = opened;
    }
    return new FastClientStream(connection, call, first);
  }

  close(): void {
    for (const connection of this.#connections) connection.destroy();
    this.#connections.clear();
    this.#connection = undefined;
  }
}

/** Room for a frame's head on top of the largest message. */
const headRoomBytes = 64 * 1024;
/** The buffer a connection's socket reads into (`onread`), reused for every read. */
const readBufferBytes = 64 * 1024;
/**
 * A reply this large or smaller gets its buffer when its header arrives (one partial frame at a
 * time: all the plugin can make the host commit ahead of its bytes); larger ones as they fill.
 */
const upFrontBytes = 64 * 1024 * 1024;

/** One socket and the calls running on it. */
class Connection {
  readonly #socket: Duplex;
  readonly writer: FrameWriter;
  /** What this connection's streams sent in this turn of the event loop. */
  readonly turn = new TurnBudget();
  readonly #reader: FrameReader;
  /** By call id; an IdTable, not a Map (docs/performance.md §27). */
  readonly #calls = new IdTable<FastClientStream>();
  #nextId = 1;
  #goaway = false;
  #error: Error | undefined;
  #ended = false;

  constructor(connect: (onread?: OnReadOpts) => Duplex, maxReceive: number, onClosed: () => void) {
    // Reads land in one buffer of the connection's, handed on as borrowed (docs/performance.md
    // §20); a stream that cannot take `onread` emits fresh buffers as 'data'.
    const socket = connect(reusedReadBuffer(readBufferBytes, (chunk) => this.#read(chunk, true)));
    this.#socket = socket;
    this.writer = new FrameWriter(socket);
    this.#reader = new FrameReader(
      maxReceive + headRoomBytes,
      {
        frame: (frame) => this.#onFrame(frame),
        oversize: (type, id, length) => {
          if (type === FrameType.message || type === FrameType.reply) {
            this.#calls
              .get(id)
              ?.call.fail(
                new PluginError(
                  "RESOURCE_EXHAUSTED",
                  `received message larger than max (${length} vs. ${maxReceive})`,
                ),
              );
          }
        },
      },
      upFrontBytes,
    );
    socket.write(fastWirePreface);
    socket.on("data", (chunk: Buffer) => this.#read(chunk, false));
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
      for (const stream of this.#calls.values()) stream.call.lost(reason);
      this.#calls.clear();
      onClosed();
    });
  }

  /** False once the server said goaway or the socket is gone: new calls need a new connection. */
  get usable(): boolean {
    return !this.#goaway && !this.#ended && !this.#socket.destroyed;
  }

  get ended(): boolean {
    return this.#ended;
  }

  add(stream: FastClientStream): number {
    const id = this.#nextId++;
    if (this.#nextId > 0xffffffff) this.#goaway = true; // ids exhausted: the next call reconnects
    this.#calls.set(id, stream);
    return id;
  }

  remove(id: number): void {
    this.#calls.delete(id);
    if (this.#goaway && this.#calls.size === 0) this.#socket.end();
  }

  destroy(): void {
    this.#calls.clear();
    this.writer.close();
    this.#socket.destroy();
  }

  #read(chunk: Buffer, borrowed: boolean): void {
    try {
      this.#reader.push(chunk, borrowed);
    } catch (error) {
      this.#socket.destroy(error as Error);
    }
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FrameType.goaway) {
      this.#goaway = true;
      if (this.#calls.size === 0) this.#socket.end();
      return;
    }
    const stream = this.#calls.get(frame.id);
    if (stream === undefined) return; // a late frame of a call that already ended
    switch (frame.type) {
      case FrameType.reply:
        stream.onReply(keep(frame.payload, frame.borrowed));
        return;
      case FrameType.message:
        stream.onMessage(keep(frame.payload, frame.borrowed));
        return;
      case FrameType.status: {
        const { code, message } = decodeStatus(frame.payload);
        stream.call.receiveStatus(code, message);
        return;
      }
      case FrameType.credit:
        stream.credit?.add(frame.payload.readUInt32BE(0));
        return;
      default:
        return;
    }
  }
}

/** One call's frames: its id, the credit it may send with, the window it grants. */
class FastClientStream implements ClientStream {
  readonly call: ClientCall;
  readonly #connection: Connection;
  readonly #id: number;
  readonly #window: ReceiveWindow | undefined;
  credit: Credit | undefined;

  constructor(connection: Connection, call: ClientCall, first: Encoded | undefined) {
    this.call = call;
    this.#connection = connection;
    const id = connection.add(this);
    this.#id = id;
    const kind = call.method.methodKind;
    if (kind === "server_streaming" || kind === "bidi_streaming") {
      this.#window = new ReceiveWindow((bytes) =>
        connection.writer.frame(FrameType.credit, id, encodeCredit(bytes)),
      );
    }
    if (first === undefined) this.credit = new Credit();
    const timeoutMs = call.options?.timeoutMs;
    // A deadline beyond what the u32 field holds (≈ 49.7 days) is not sent: the handler runs
    // without one rather than being aborted early, and this side still enforces it.
    const sentTimeoutMs =
      timeoutMs !== undefined && timeoutMs <= 0xffffffff ? timeoutMs : undefined;
    connection.writer.frame(
      FrameType.call,
      id,
      encodeCallHead(
        methodPath(call.method),
        first === undefined ? 0 : CallFlag.message | CallFlag.end,
        sentTimeoutMs,
        call.options?.headers,
      ),
      first,
    );
  }

  write(body: Encoded): Promise<void> | undefined {
    if (this.credit!.available) return this.#send(body);
    return this.credit!.wait().then(() => {
      if (!this.call.done) return this.#send(body);
    });
  }

  /** Sends now; a promise when the sender should wait for the next turn of the event loop. */
  #send(body: Encoded): Promise<void> | undefined {
    const size = encodedSize(body);
    this.credit!.spend(size);
    this.#connection.writer.frame(FrameType.message, this.#id, undefined, body);
    return this.#connection.turn.spend(size);
  }

  end(): void {
    this.#connection.writer.frame(FrameType.end, this.#id);
  }

  cancel(): void {
    if (!this.#connection.ended) this.#connection.writer.frame(FrameType.cancel, this.#id);
  }

  consumed(bytes: number): void {
    this.#window?.taken(bytes);
  }

  release(): void {
    this.credit?.release();
    this.#connection.remove(this.#id);
  }

  onReply(payload: Buffer): void {
    if (this.#window !== undefined) {
      // A protocol violation: a streaming response ends with a status frame, never a reply.
      this.call.fail(
        new PluginError(
          "INTERNAL",
          "the plugin answered a streaming call with a reply frame (a fast-wire protocol violation)",
        ),
      );
      return;
    }
    this.call.receive(payload);
    this.call.receiveStatus(GrpcStatus.OK, "");
  }

  onMessage(payload: Buffer): void {
    const window = this.#window;
    if (window === undefined) {
      this.call.fail(new PluginError("INTERNAL", "a stream message arrived for a unary response"));
      return;
    }
    if (!window.acceptsMore) {
      // The plugin sent beyond the window this side granted: reset the call instead of
      // buffering whatever it sends (a plugin may not make the host hold unbounded data).
      this.call.fail(
        new PluginError(
          "RESOURCE_EXHAUSTED",
          `the plugin sent beyond its flow-control window of ${initialCreditBytes} bytes on this stream`,
        ),
      );
      return;
    }
    window.received(payload.byteLength);
    this.call.receive(payload);
  }
}
