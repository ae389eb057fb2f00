import type { Writable } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import { gather, keep } from "../../internal/borrowed-reads.ts";

import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";

/**
 * Messages smaller than this are copied into one buffer with their 5-byte prefix (one write is
 * cheaper than several below that size); larger ones are written as their pieces in one corked
 * write, without a copy (docs/performance.md).
 */
export const splitFrameBytes = 64 * 1024;

/**
 * Writes one gRPC length-prefixed message (1 byte compressed flag, 4 bytes big-endian length,
 * payload; we never compress) to an HTTP/2 stream, ending the stream after it when `end` is set.
 * Returns what the last `write` returned (false: wait for 'drain').
 */
export function writeFrame(stream: Writable, message: Encoded, end: boolean): boolean {
  const size = encodedSize(message);
  if (size < splitFrameBytes) {
    const frame = Buffer.allocUnsafe(5 + size);
    frame[0] = 0;
    frame.writeUInt32BE(size, 1);
    let offset = 5;
    for (const piece of message) {
      frame.set(piece, offset);
      offset += piece.byteLength;
    }
    if (end) {
      stream.end(frame);
      return true;
    }
    return stream.write(frame);
  }
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(size, 1);
  stream.cork();
  stream.write(prefix);
  for (let i = 0; i < message.length - 1; i++) stream.write(message[i]);
  const last = message[message.length - 1]!;
  if (end) {
    stream.end(last); // end() uncorks: everything goes out together
    return true;
  }
  const ok = stream.write(last);
  stream.uncork();
  return ok;
}

const none: Uint8Array[] = [];

/** Without a budget, a message spread over chunks up to this size gets its buffer at once. */
const smallMessageBytes = 64 * 1024;

/**
 * What one connection's streams may allocate ahead of the bytes that fill it: message buffers of
 * the size a prefix announces. A connection's receive window is the natural amount (what the
 * peer may send before this side credits anything), so a peer can make this side commit at most
 * that much more than it sent.
 */
export class AllocationBudget {
  #left: number;

  constructor(bytes: number) {
    this.#left = bytes;
  }

  /** Takes `bytes` if that much is left. */
  take(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#left += bytes;
  }

  get left(): number {
    return this.#left;
  }
}

const sessionBudgets = new WeakMap<object, AllocationBudget>();

/** The budget of a node:http2 session (`bytes`, its connection window), made on first use. */
export function sessionBudget(session: object, bytes: number): AllocationBudget {
  let budget = sessionBudgets.get(session);
  if (budget === undefined) {
    budget = new AllocationBudget(bytes);
    sessionBudgets.set(session, budget);
  }
  return budget;
}

/**
 * Splits a byte stream into gRPC message payloads. A message inside one chunk is handed out as a
 * view of it. One spread over chunks is put together as its pieces arrive, so nothing holds on to
 * a chunk beyond its own bytes:
 * - copied into a buffer of the size its prefix announces, when the connection's `budget` has
 *   room (without one: when that is 64 KiB or less). One copy, one allocation, as grpc-go does;
 * - else kept as its pieces until half of it has arrived, then copied into its buffer: memory
 *   follows the bytes received (at most twice them), never the length announced (5 bytes
 *   announcing 256 MiB cost 5 bytes).
 *
 * A chunk pushed as `borrowed` is valid only during the call (a read buffer the socket reuses,
 * docs/performance.md §20): what is kept or handed out of it is copied. `discard` when the stream
 * ends, so the budget a partial message took is handed back.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  /** The first bytes of a prefix that a chunk cut short. */
  readonly #head = Buffer.alloc(5);
  #headBytes = 0;
  /** A message spread over chunks: its length, and how much of it has arrived. */
  #length = -1;
  #filled = 0;
  /** Its buffer (allocated when the prefix arrived), or else the pieces received so far. */
  #message: Buffer | undefined;
  #pieces: Buffer[] = [];
  #budget: AllocationBudget | undefined;
  /** What the pending message took from the budget. */
  #reserved = 0;

  constructor(maxMessageBytes: number, budget?: AllocationBudget) {
    this.#maxBytes = maxMessageBytes;
    this.#budget = budget;
  }

  /** The stream is over: a partial message is dropped and the budget it took handed back. */
  discard(): void {
    this.#drop();
    this.#headBytes = 0;
    this.#budget = undefined;
  }

  /** Bytes held for a message not yet complete (what the peer has made this side allocate). */
  get bufferedBytes(): number {
    return (this.#message?.byteLength ?? (this.#length < 0 ? 0 : this.#filled)) + this.#headBytes;
  }

  /** The length the message being received announced; 0 when none is pending. */
  get pendingMessageBytes(): number {
    return Math.max(0, this.#length);
  }

  /** True when no partial message is pending (a stream may end cleanly here). */
  get idle(): boolean {
    return this.#headBytes === 0 && this.#length < 0;
  }

  /** Feeds a chunk; returns the complete payloads it finished (often zero or one). */
  push(chunk: Buffer, borrowed = false): Uint8Array[] {
    const end = chunk.byteLength;
    let at = 0;
    let out: Uint8Array[] | undefined;
    if (this.#length >= 0) {
      at = Math.min(end, this.#length - this.#filled);
      const message = this.#add(chunk.subarray(0, at), borrowed);
      if (message === undefined) return none;
      out = [message];
    } else if (this.#headBytes > 0) {
      at = Math.min(end, 5 - this.#headBytes);
      chunk.copy(this.#head, this.#headBytes, 0, at);
      this.#headBytes += at;
      if (this.#headBytes < 5) return none;
      this.#headBytes = 0;
      const length = this.#prefix(this.#head, 0);
      if (end - at < length) {
        this.#begin(length, chunk.subarray(at), borrowed);
        return none;
      }
      out = [messageAt(chunk, at, length, borrowed)];
      at += length;
    }
    // The usual case: a chunk (a DATA frame) of whole messages, each read in place.
    while (end - at >= 5) {
      const length = this.#prefix(chunk, at);
      const start = at + 5;
      if (end - start < length) {
        this.#begin(length, chunk.subarray(start), borrowed);
        return out ?? none;
      }
      out ??= [];
      out.push(messageAt(chunk, start, length, borrowed));
      at = start + length;
    }
    if (at < end) {
      chunk.copy(this.#head, 0, at, end);
      this.#headBytes = end - at;
    }
    return out ?? none;
  }

  /** The length a message's 5-byte prefix at `at` announces, once checked. */
  #prefix(chunk: Buffer, at: number): number {
    if (chunk[at] !== 0) {
      throw new PluginError("INTERNAL", "received a compressed gRPC message, none was negotiated");
    }
    const length = chunk.readUInt32BE(at + 1);
    if (length > this.#maxBytes) {
      throw new PluginError(
        "RESOURCE_EXHAUSTED",
        `received message larger than max (${length} vs. ${this.#maxBytes})`,
      );
    }
    return length;
  }

  /** A message of `length` bytes whose first ones are `first` (fewer): the rest comes later. */
  #begin(length: number, first: Buffer, borrowed: boolean): void {
    this.#length = length;
    this.#filled = 0;
    const budget = this.#budget;
    if (budget === undefined ? length <= smallMessageBytes : budget.take(length)) {
      if (budget !== undefined) this.#reserved = length;
      this.#message = Buffer.allocUnsafe(length);
    }
    this.#add(first, borrowed);
  }

  /** Adds the next piece of the pending message; returns the message once it is complete. */
  #add(piece: Buffer, borrowed: boolean): Buffer | undefined {
    let message = this.#message;
    if (message === undefined && 2 * (this.#filled + piece.byteLength) >= this.#length) {
      // Half of it has arrived: its buffer now costs at most twice the bytes received.
      message = gather(this.#pieces, this.#length);
      this.#message = message;
      this.#pieces = [];
    }
    if (message !== undefined) piece.copy(message, this.#filled);
    else if (piece.byteLength > 0) this.#pieces.push(keep(piece, borrowed));
    this.#filled += piece.byteLength;
    if (this.#filled < this.#length) return undefined;
    const whole = message ?? Buffer.concat(this.#pieces, this.#length);
    this.#drop();
    return whole;
  }

  /** Forgets the pending message, handing back what it took from the budget. */
  #drop(): void {
    this.#length = -1;
    this.#message = undefined;
    this.#pieces = [];
    if (this.#reserved > 0) this.#budget?.give(this.#reserved);
    this.#reserved = 0;
  }
}

/** The message at `chunk[start..start + length]`: a view, or a copy when the chunk is borrowed. */
function messageAt(chunk: Buffer, start: number, length: number, borrowed: boolean): Uint8Array {
  return keep(chunk.subarray(start, start + length), borrowed);
}
