import type { Duplex } from "node:stream";
import { gather, keep } from "../../internal/borrowed-reads.ts";
import { EarlyWrites } from "../../internal/early-writes.ts";
import { WriteArena } from "../../internal/write-arena.ts";
import { writeQueued } from "../../internal/write-queued.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";

/**
 * plugwire's fast wire (docs/fast-wire.md): gRPC's calls, statuses, deadlines and cancellation
 * carried in plain frames on one socket, for a plugwire host talking to a plugwire plugin. Every
 * frame is `u32 payload length | u8 type | u32 call id | payload`, big-endian.
 */
export const FrameType = {
  /** Client → server, opens a call: flags, timeout, path, metadata, and usually the request. */
  call: 1,
  /** Either way: one protobuf message of the call. */
  message: 2,
  /** Client → server: no more requests (half-close). */
  end: 3,
  /** Server → client: the call's final status (u8 code, UTF-8 message). */
  status: 4,
  /** Server → client: a unary call's response and status OK in one frame. */
  reply: 5,
  /** Client → server: the caller cancelled (deadline, abort, stopped reading). */
  cancel: 6,
  /** Either way: the receiver consumed this many more bytes of the call's messages (u32). */
  credit: 7,
  /** Server → client: the server is stopping; open no new calls on this connection. */
  goaway: 8,
} as const;

export type FrameTypeNumber = (typeof FrameType)[keyof typeof FrameType];

/** Flags of a `call` frame. */
export const CallFlag = {
  /** A request message follows the header. */
  message: 1,
  /** The request stream ends after it (unary and server-streaming calls). */
  end: 2,
  /** The u32 timeout field is set. */
  timeout: 4,
  /** JSON metadata follows the path. */
  metadata: 8,
} as const;

/** What a client writes first on a fast-wire connection (gRPC's HTTP/2 preface starts with "PRI"). */
export const fastWirePreface = Buffer.from("\0plugwire-fast/1\n", "latin1");

/** ALPN name of the fast wire under AutoMTLS, beside gRPC's "h2". */
export const fastWireAlpn = "plugwire-fast/1";

/** Bytes of a call's messages a receiver buffers before the sender waits for credit. */
export const initialCreditBytes = 1024 * 1024;

const headerBytes = 9;
/** Frames smaller than this are batched into one buffer; larger ones are written as they are. */
const copyBelowBytes = 64 * 1024;

/**
 * Queues frames and writes everything queued in one turn of the event loop as one write: 64
 * concurrent calls answered in one turn cost a few syscalls, not 64: a turn that queues many
 * calls or replies writes some out early (`EarlyWrites`), so the peer starts on them meanwhile.
 * Small frames are written into a shared arena (`WriteArena`: no buffer per frame, nothing joined
 * at the flush); the pieces of larger ones are appended as they are.
 */
export class FrameWriter {
  readonly #socket: Duplex;
  readonly #arena = new WriteArena();
  #scheduled = false;
  #closed = false;
  readonly #onBlocked: (() => void) | undefined;
  readonly #early = new EarlyWrites();

  /** `onBlocked`: a write was refused (the socket's buffer is full until its 'drain'). */
  constructor(socket: Duplex, onBlocked?: () => void) {
    this.#socket = socket;
    this.#onBlocked = onBlocked;
  }

  /** Queues a frame whose payload is `head` (may be empty) followed by `body`'s pieces. */
  frame(type: FrameTypeNumber, id: number, head?: Buffer, body?: Encoded): void {
    if (this.#closed) return;
    const headLength = head?.byteLength ?? 0;
    const bodyLength = body === undefined ? 0 : encodedSize(body);
    const length = headLength + bodyLength;
    const arena = this.#arena;
    if (length < copyBelowBytes) {
      let at = arena.reserve(headerBytes + length);
      const buffer = arena.buffer;
      writeHeader(buffer, at, length, type, id);
      at += headerBytes;
      if (head !== undefined) at += head.copy(buffer, at);
      if (body !== undefined) {
        for (const piece of body) {
          buffer.set(piece, at);
          at += piece.byteLength;
        }
      }
    } else {
      const at = arena.reserve(headerBytes); // first: it may replace the arena
      writeHeader(arena.buffer, at, length, type, id);
      if (head !== undefined) arena.append(head);
      for (const piece of body ?? []) arena.append(piece);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#endTurn);
    }
    if ((type === FrameType.call || type === FrameType.reply) && this.#early.counted())
      this.flush();
  }

  readonly #endTurn = (): void => {
    this.#scheduled = false;
    this.#early.reset();
    this.flush();
  };

  /** Writes what is queued now. Returns false when the socket asks the writer to slow down. */
  flush(): boolean {
    const queue = this.#arena.take();
    if (queue.length === 0 || this.#closed) return true;
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return false;
    const ok = writeQueued(socket, queue);
    if (!ok) this.#onBlocked?.();
    return ok;
  }

  /** Drops whatever is queued; later frames are ignored. */
  close(): void {
    this.#closed = true;
    this.#arena.clear();
  }
}

function writeHeader(target: Buffer, at: number, length: number, type: number, id: number): void {
  target.writeUInt32BE(length, at);
  target[at + 4] = type;
  target.writeUInt32BE(id, at + 5);
}

/**
 * A frame as read. Its payload is a view into the received chunk or a buffer of its own;
 * `borrowed`: the chunk is a read buffer the socket reuses, so the payload is valid only during
 * the handler's call (copy what is kept).
 */
export interface Frame {
  readonly type: number;
  readonly id: number;
  readonly payload: Buffer;
  readonly borrowed: boolean;
}

export interface FrameHandlers {
  frame(frame: Frame): void;
  /**
   * A frame over its size limit was skipped without being buffered: a `call` or `message` frame
   * over the message limit, any other frame over `maxControlPayloadBytes`.
   */
  oversize(type: number, id: number, length: number): void;
}

/** Largest payload of a frame that carries no message (status, credit, goaway, unknown types). */
export const maxControlPayloadBytes = 64 * 1024;
/** Payloads up to this size are allocated when their header arrives (a client's: its bound). */
const allocateUpFrontBytes = 64 * 1024;

/** Frame types whose payload is a message, bounded by the message limit. */
function carriesMessage(type: number): boolean {
  return (
    type === FrameType.call ||
    type === FrameType.message ||
    type === FrameType.reply ||
    type === FrameType.status
  );
}

interface Partial {
  readonly type: number;
  readonly id: number;
  readonly length: number;
  /** Small frames: the payload, allocated up front; large ones: once half of it has arrived. */
  payload: Buffer | undefined;
  /** Large frames: the pieces received before half of the payload. */
  pieces: Buffer[];
  filled: number;
}

/**
 * Splits the socket's bytes into frames. A payload inside one read is a view of that read; one
 * spread over several reads is copied into its own buffer, allocated once half of it is there
 * (at most twice the bytes received, never the length a header announces) or, up to
 * `upFrontBytes`, when its header arrives (one partial frame at a time: all a peer can commit).
 * Frames over the limit are skipped (and reported) without being buffered, so one oversized
 * message fails its call rather than the connection. A chunk pushed as `borrowed` (a read buffer
 * the socket reuses) is valid only during the call: the pieces kept of it are copies.
 */
export class FrameReader {
  readonly #maxPayloadBytes: number;
  readonly #handlers: FrameHandlers;
  #pending: Buffer | undefined;
  #partial: Partial | undefined;
  #skipBytes = 0;
  readonly #upFrontBytes: number;

  constructor(
    maxPayloadBytes: number,
    handlers: FrameHandlers,
    upFrontBytes = allocateUpFrontBytes,
  ) {
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#handlers = handlers;
    this.#upFrontBytes = Math.max(upFrontBytes, allocateUpFrontBytes);
  }

  /** Feeds a chunk, delivering every frame it completes. */
  push(chunk: Buffer, borrowed = false): void {
    let data = chunk;
    let lent = borrowed;
    if (this.#skipBytes > 0) {
      const skip = Math.min(this.#skipBytes, data.byteLength);
      this.#skipBytes -= skip;
      data = data.subarray(skip);
    }
    const partial = this.#partial;
    if (partial !== undefined) {
      const take = Math.min(data.byteLength, partial.length - partial.filled);
      if (partial.payload === undefined && 2 * (partial.filled + take) >= partial.length) {
        partial.payload = gather(partial.pieces, partial.length); // ≤ twice the bytes received
        partial.pieces = [];
      }
      if (partial.payload !== undefined) data.copy(partial.payload, partial.filled, 0, take);
      else if (take > 0) partial.pieces.push(keep(data.subarray(0, take), lent));
      partial.filled += take;
      if (partial.filled < partial.length) return;
      this.#partial = undefined;
      const payload = partial.payload!;
      this.#handlers.frame({ type: partial.type, id: partial.id, payload, borrowed: false });
      data = data.subarray(take);
    } else if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, data]);
      this.#pending = undefined;
      lent = false;
    }
    let offset = 0;
    let handed = 0;
    while (data.byteLength - offset >= headerBytes) {
      if (lent && handed > 0) {
        // More than one frame in a borrowed read: one copy of the rest, not one per frame kept.
        data = Buffer.from(data.subarray(offset));
        offset = 0;
        lent = false;
      }
      const length = data.readUInt32BE(offset);
      const type = data[offset + 4]!;
      const id = data.readUInt32BE(offset + 5);
      const start = offset + headerBytes;
      const available = data.byteLength - start;
      const limit = carriesMessage(type)
        ? this.#maxPayloadBytes
        : Math.min(maxControlPayloadBytes, this.#maxPayloadBytes);
      if (length > limit) {
        this.#handlers.oversize(type, id, length);
        if (available < length) {
          this.#skipBytes = length - available;
          return;
        }
        offset = start + length;
        continue;
      }
      if (available < length) {
        const upFront = length <= this.#upFrontBytes || 2 * available >= length;
        const payload = upFront ? Buffer.allocUnsafe(length) : undefined;
        if (payload !== undefined) data.copy(payload, 0, start);
        const pieces = upFront || available === 0 ? [] : [keep(data.subarray(start), lent)];
        this.#partial = { type, id, length, payload, pieces, filled: available };
        return;
      }
      offset = start + length;
      handed++;
      this.#handlers.frame({ type, id, payload: data.subarray(start, offset), borrowed: lent });
    }
    if (offset < data.byteLength) this.#pending = Buffer.from(data.subarray(offset));
  }

  /** True when no partial frame is pending (the connection may end cleanly here). */
  get idle(): boolean {
    return this.#pending === undefined && this.#partial === undefined && this.#skipBytes === 0;
  }

  /** Bytes held for frames not yet complete (what a peer has made this reader buffer). */
  get bufferedBytes(): number {
    const partial = this.#partial;
    const held = partial === undefined ? 0 : (partial.payload?.byteLength ?? partial.filled);
    return held + (this.#pending?.byteLength ?? 0);
  }
}
