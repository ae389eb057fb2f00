// hashicorp/yamux framing (spec.md in github.com/hashicorp/yamux): a 12-byte big-endian header
// {version, type, flags, stream id, length}, followed by `length` payload bytes for Data frames
// only. For the other types `length` is a value: a window delta, a ping's opaque value, or a
// GoAway code.

/** The only protocol version yamux defines. */
export const yamuxVersion = 0;

/** Size of a frame header in bytes. */
export const headerBytes = 12;

/** Window every stream starts with, in both directions, before any window update (256 KiB). */
export const initialStreamWindowBytes = 256 * 1024;

/** Frame types (header byte 1). */
export const FrameType = {
  /** Stream data; `length` payload bytes follow. */
  DATA: 0,
  /** Adds `length` bytes to the receiver's send window for the stream. */
  WINDOW_UPDATE: 1,
  /** Session ping; `length` is an opaque value echoed back with ACK. Stream id 0. */
  PING: 2,
  /** Session termination or refusal of new streams; `length` is a {@link GoAwayCode}. */
  GO_AWAY: 3,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Header flags (bytes 2–3), combinable. */
export const Flag = {
  /** Opens a stream (Data or WindowUpdate); marks a ping request. */
  SYN: 1,
  /** Accepts a stream (Data or WindowUpdate); marks a ping response. */
  ACK: 2,
  /** Half-closes the stream: the sender sends no more data. */
  FIN: 4,
  /** Resets the stream at once (or refuses a SYN). */
  RST: 8,
} as const;

/** The `length` of a GoAway frame. */
export const GoAwayCode = {
  NORMAL: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
} as const;

export interface FrameHeader {
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly length: number;
}

/** Encodes one frame header. */
export function encodeHeader(
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
): Buffer {
  const header = Buffer.allocUnsafe(headerBytes);
  header.writeUInt8(yamuxVersion, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(flags, 2);
  header.writeUInt32BE(streamId, 4);
  header.writeUInt32BE(length, 8);
  return header;
}

/** Decodes the header at `offset` (which must have 12 bytes available). */
export function decodeHeader(bytes: Buffer, offset = 0): FrameHeader {
  return {
    version: bytes.readUInt8(offset),
    type: bytes.readUInt8(offset + 1),
    flags: bytes.readUInt16BE(offset + 2),
    streamId: bytes.readUInt32BE(offset + 4),
    length: bytes.readUInt32BE(offset + 8),
  };
}

/** What {@link FrameParser} reports, in wire order. */
export interface FrameSink {
  /** A complete header. For a Data frame its payload follows through `payload`, then `end`. */
  header(header: FrameHeader): void;
  /** A slice of the current Data frame's payload (a view of the input, not a copy). */
  payload(header: FrameHeader, chunk: Buffer): void;
  /** The frame is complete (for frames without payload: right after `header`). */
  end(header: FrameHeader): void;
}

/**
 * Incremental frame parser: feed it the bytes read from the connection in any split; it reports
 * headers and payload slices without buffering payloads. `stop()` discards everything after.
 */
export class FrameParser {
  readonly #sink: FrameSink;
  readonly #partial = Buffer.alloc(headerBytes);
  #partialBytes = 0;
  #current: FrameHeader | undefined;
  #remaining = 0;
  #stopped = false;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  stop(): void {
    this.#stopped = true;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.#stopped) {
      const current = this.#current;
      if (current !== undefined) {
        const n = Math.min(this.#remaining, chunk.length - offset);
        this.#remaining -= n;
        this.#sink.payload(current, chunk.subarray(offset, offset + n));
        offset += n;
        if (this.#remaining === 0) this.#finish(current);
        continue;
      }
      let header: FrameHeader;
      if (this.#partialBytes === 0 && chunk.length - offset >= headerBytes) {
        header = decodeHeader(chunk, offset);
        offset += headerBytes;
      } else {
        const n = Math.min(headerBytes - this.#partialBytes, chunk.length - offset);
        chunk.copy(this.#partial, this.#partialBytes, offset, offset + n);
        this.#partialBytes += n;
        offset += n;
        if (this.#partialBytes < headerBytes) return;
        this.#partialBytes = 0;
        header = decodeHeader(this.#partial);
      }
      this.#sink.header(header);
      if (this.#stopped) return;
      if (header.type === FrameType.DATA && header.length > 0) {
        this.#current = header;
        this.#remaining = header.length;
      } else {
        this.#sink.end(header);
      }
    }
  }

  #finish(header: FrameHeader): void {
    this.#current = undefined;
    this.#sink.end(header);
  }
}
