/**
 * HTTP/2 frames (RFC 9113 §4, §6): the numbers, and the reader that splits a connection's bytes
 * into frames. Only what gRPC meets is given a meaning elsewhere; every frame type is read.
 */

export const FrameType = {
  data: 0x0,
  headers: 0x1,
  priority: 0x2,
  rstStream: 0x3,
  settings: 0x4,
  pushPromise: 0x5,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

export const Flag = {
  /** DATA, HEADERS: the sender's last frame on the stream. */
  endStream: 0x1,
  /** SETTINGS, PING: an acknowledgement. */
  ack: 0x1,
  /** HEADERS, CONTINUATION: the header block is complete. */
  endHeaders: 0x4,
  /** DATA, HEADERS: a pad length byte and padding surround the payload. */
  padded: 0x8,
  /** HEADERS: a stream dependency and weight precede the block. */
  priority: 0x20,
} as const;

/** HTTP/2 error codes (RFC 9113 §7), in RST_STREAM and GOAWAY frames. */
export const H2Error = {
  noError: 0x0,
  protocol: 0x1,
  internal: 0x2,
  flowControl: 0x3,
  settingsTimeout: 0x4,
  streamClosed: 0x5,
  frameSize: 0x6,
  refusedStream: 0x7,
  cancel: 0x8,
  compression: 0x9,
  connect: 0xa,
  enhanceYourCalm: 0xb,
  inadequateSecurity: 0xc,
  http11Required: 0xd,
} as const;

/** What a client writes first (RFC 9113 §3.4), before its SETTINGS frame. */
export const clientPreface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const frameHeaderBytes = 9;

/** The frame size every peer accepts until it says otherwise (SETTINGS_MAX_FRAME_SIZE). */
export const defaultMaxFrameBytes = 16_384;

/** Writes a frame header at `target[at]`. */
export function writeFrameHeader(
  target: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  target[at] = length >>> 16;
  target[at + 1] = (length >>> 8) & 0xff;
  target[at + 2] = length & 0xff;
  target[at + 3] = type;
  target[at + 4] = flags;
  target.writeUInt32BE(streamId, at + 5);
}

/** Receives the frames a reader splits out. The payload is a view valid until the call returns. */
export interface FrameSink {
  frame(type: number, flags: number, streamId: number, payload: Buffer): void;
  /** A frame larger than the limit announced: a connection error (FRAME_SIZE_ERROR). */
  oversize(type: number, length: number): void;
}

/** Of a borrowed read, frames from the second on under this size are copied once together. */
const copyRestBelowBytes = 4 * 1024;

/**
 * Splits a connection's bytes into frames. A frame inside one read is handed over as a view of
 * it; one spread over reads is copied once into a buffer of its size, which the limit bounds
 * (frames are at most SETTINGS_MAX_FRAME_SIZE, 16 KiB unless this side raised it). An unpadded
 * DATA frame spread over reads is handed over as several DATA frames, one per read, views too:
 * the flow-control window counts the same bytes, END_STREAM comes with the last.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  #maxFrameBytes: number;
  /** Up to 8 bytes of a header not yet complete. */
  #head: Buffer | undefined;
  #partial:
    | { type: number; flags: number; id: number; payload: Buffer; filled: number }
    | undefined;
  /** An unpadded DATA frame spread over reads, handed on piece by piece: what is still due. */
  #dataLeft: { flags: number; id: number; bytes: number } | undefined;
  #stopped = false;
  #lent = false;

  constructor(sink: FrameSink, maxFrameBytes = defaultMaxFrameBytes) {
    this.#sink = sink;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** No more frames are delivered (the connection failed). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Whether the frame being delivered is a view of a borrowed chunk (valid only during the
   * call). Of several frames in one borrowed chunk only the first is when the next are small
   * (each a small message the stream would copy): the rest is copied once. Large DATA frames stay
   * borrowed: their stream copies them into the message's own buffer anyway.
   */
  get borrowed(): boolean {
    return this.#lent;
  }

  /** Feeds a chunk, delivering every frame it completes; `borrowed`: see `borrowed`. */
  push(chunk: Buffer, borrowed = false): void {
    let data = chunk;
    this.#lent = borrowed;
    const partial = this.#partial;
    const dataLeft = this.#dataLeft;
    if (dataLeft !== undefined) {
      const take = Math.min(data.byteLength, dataLeft.bytes);
      dataLeft.bytes -= take;
      const last = dataLeft.bytes === 0;
      if (last) this.#dataLeft = undefined;
      const flags = last ? dataLeft.flags : dataLeft.flags & ~Flag.endStream;
      this.#sink.frame(FrameType.data, flags, dataLeft.id, data.subarray(0, take));
      if (!last || this.#stopped) return;
      data = data.subarray(take);
    } else if (partial !== undefined) {
      const take = Math.min(data.byteLength, partial.payload.byteLength - partial.filled);
      data.copy(partial.payload, partial.filled, 0, take);
      partial.filled += take;
      if (partial.filled < partial.payload.byteLength) return;
      this.#partial = undefined;
      this.#lent = false;
      this.#sink.frame(partial.type, partial.flags, partial.id, partial.payload);
      this.#lent = borrowed;
      data = data.subarray(take);
    } else if (this.#head !== undefined) {
      data = Buffer.concat([this.#head, data]);
      this.#head = undefined;
      this.#lent = false;
    }
    let at = 0;
    let end = data.byteLength;
    let handed = 0;
    while (!this.#stopped && end - at >= frameHeaderBytes) {
      const length = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
      if (this.#lent && handed > 0 && length < copyRestBelowBytes) {
        data = Buffer.from(data.subarray(at)); // one copy of the rest, not one per frame kept
        end = data.byteLength;
        at = 0;
        this.#lent = false;
      }
      const type = data[at + 3]!;
      const flags = data[at + 4]!;
      const id = data.readUInt32BE(at + 5) & 0x7fffffff;
      if (length > this.#maxFrameBytes) {
        this.#stopped = true;
        this.#sink.oversize(type, length);
        return;
      }
      const start = at + frameHeaderBytes;
      if (end - start < length && type === FrameType.data && (flags & Flag.padded) === 0) {
        // DATA may be cut anywhere without changing what it carries (only END_STREAM belongs
        // to the last piece): its pieces go on as views, with no buffer of the frame's size.
        this.#dataLeft = { flags, id, bytes: length - (end - start) };
        if (end > start)
          this.#sink.frame(type, flags & ~Flag.endStream, id, data.subarray(start, end));
        return;
      }
      if (end - start < length) {
        const payload = Buffer.allocUnsafe(length);
        data.copy(payload, 0, start, end);
        this.#partial = { type, flags, id, payload, filled: end - start };
        return;
      }
      at = start + length;
      handed++;
      this.#sink.frame(type, flags, id, data.subarray(start, at));
    }
    if (!this.#stopped && at < end) this.#head = Buffer.from(data.subarray(at));
  }
}
