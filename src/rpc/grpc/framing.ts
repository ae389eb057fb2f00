import type { Writable } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";

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

/**
 * Splits a byte stream into gRPC message payloads. Chunks are kept as a list and only copied when
 * a message spans several of them, so large messages cost one copy.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1;

  constructor(maxMessageBytes: number) {
    this.#maxBytes = maxMessageBytes;
  }

  /** Feeds a chunk; returns the complete payloads it finished (often zero or one). */
  push(chunk: Buffer): Uint8Array[] {
    if (this.#buffered === 0 && this.#need < 0) {
      // Nothing pending (the usual case: a DATA frame holds whole messages): read the prefixes
      // in place, one view per message, and keep only what is left.
      let at = 0;
      let out: Uint8Array[] | undefined;
      while (chunk.byteLength - at >= 5) {
        const length = this.#prefix(chunk, at);
        if (chunk.byteLength - at - 5 < length) break;
        out ??= [];
        out.push(chunk.subarray(at + 5, at + 5 + length));
        at += 5 + length;
      }
      if (at === chunk.byteLength) return out ?? none;
      const rest = at === 0 ? chunk : chunk.subarray(at);
      const more = this.#pushSlow(rest);
      return out === undefined ? more : more.length === 0 ? out : out.concat(more);
    }
    return this.#pushSlow(chunk);
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

  #pushSlow(chunk: Buffer): Uint8Array[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 5) break;
        this.#need = this.#prefix(this.#take(5), 0);
      }
      if (this.#buffered < this.#need) break;
      out.push(this.#take(this.#need));
      this.#need = -1;
    }
    return out;
  }

  /** True when no partial message is pending (a stream may end cleanly here). */
  get idle(): boolean {
    return this.#buffered === 0 && this.#need < 0;
  }

  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.byteLength, n - offset);
      chunk.copy(out, offset, 0, take);
      offset += take;
      if (take === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}
