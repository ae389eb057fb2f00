import { Flag, H2Error } from "./frames.ts";

/** A frame that breaks the protocol: the error code it earns, and whether only its stream does. */
export class FrameError extends Error {
  readonly code: number;
  /** The stream to reset; undefined for a connection error. */
  readonly streamId: number | undefined;
  constructor(code: number, message: string, streamId?: number) {
    super(message);
    this.code = code;
    this.streamId = streamId;
  }
}

/** A HEADERS frame's fields: the start of its block, and what surrounds it. */
export interface HeadersFrame {
  readonly fragment: Buffer;
  /** The stream depends on itself (RFC 9113 §5.3.1): a stream error, once the block is read. */
  readonly selfDependent: boolean;
}

/** Strips a frame's padding (RFC 9113 §6.1, §6.2); a pad as long as the payload is an error. */
export function unpad(flags: number, payload: Buffer): { body: Buffer; padding: number } {
  if ((flags & Flag.padded) === 0) return { body: payload, padding: 0 };
  if (payload.byteLength < 1)
    throw new FrameError(H2Error.frameSize, "a padded frame with no pad length");
  const pad = payload[0]!;
  if (pad >= payload.byteLength)
    throw new FrameError(H2Error.protocol, "padding as long as the frame's payload");
  return { body: payload.subarray(1, payload.byteLength - pad), padding: pad + 1 };
}

/** A HEADERS frame's payload without its padding and priority fields. */
export function readHeadersFrame(id: number, flags: number, payload: Buffer): HeadersFrame {
  let { body } = unpad(flags, payload);
  let selfDependent = false;
  if ((flags & Flag.priority) !== 0) {
    if (body.byteLength < 5)
      throw new FrameError(H2Error.frameSize, "a HEADERS frame too short for its priority");
    selfDependent = (body.readUInt32BE(0) & 0x7fffffff) === id;
    body = body.subarray(5);
  }
  return { fragment: body, selfDependent };
}

/**
 * A header block arriving as HEADERS and CONTINUATION frames. Nothing else may come between
 * them (RFC 9113 §6.10); the block's size is bounded so a peer cannot make it grow without end.
 * A block continued in later frames keeps copies of its pieces: a frame's payload may be in a
 * read buffer the socket reuses (connection.ts `receive`).
 */
export class HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly selfDependent: boolean;
  readonly #pieces: Buffer[];
  #bytes: number;
  readonly #maxBytes: number;

  constructor(streamId: number, flags: number, first: HeadersFrame, maxBytes: number) {
    this.streamId = streamId;
    this.endStream = (flags & Flag.endStream) !== 0;
    this.selfDependent = first.selfDependent;
    const continued = (flags & Flag.endHeaders) === 0;
    this.#pieces = [continued ? Buffer.from(first.fragment) : first.fragment];
    this.#bytes = first.fragment.byteLength;
    this.#maxBytes = maxBytes;
    this.#check();
  }

  /** Adds a CONTINUATION fragment. */
  add(fragment: Buffer): void {
    this.#pieces.push(Buffer.from(fragment));
    this.#bytes += fragment.byteLength;
    this.#check();
  }

  /** The whole block. */
  get bytes(): Buffer {
    return this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces, this.#bytes);
  }

  #check(): void {
    if (this.#bytes > this.#maxBytes) {
      throw new FrameError(H2Error.enhanceYourCalm, `a header block over ${this.#maxBytes} bytes`);
    }
  }
}
