import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";
import { Flag, FrameType } from "./frames.ts";
import type { FrameWriter } from "./writer.ts";

/** What the peer sends on a stream, as the connection checked it. */
export interface StreamEvents {
  /** A header block: the response or request head, or trailers (then `endStream`). */
  onHeaders(fields: string[], endStream: boolean): void;
  /**
   * DATA bytes (padding removed), already counted against the stream's window. `borrowed`: the
   * bytes are in a read buffer the socket reuses, valid only during the call (copy what is kept).
   */
  onData(payload: Buffer, endStream: boolean, borrowed: boolean): void;
  /**
   * The stream is gone without a status: reset by the peer (`code`, an HTTP/2 error code) or
   * the connection ended (`code` undefined; `reason` says why).
   */
  onReset(code: number | undefined, reason: string): void;
}

/** What a stream needs from its connection to send. */
export interface StreamHost {
  readonly writer: FrameWriter;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly maxFrameBytes: number;
  /** Bytes the connection may still send (the peer's connection window). */
  sendWindow: number;
  /** The stream has data it could not send for the connection window: wake it when it grows. */
  waitForWindow(stream: H2Stream): void;
  /** Sends a header block on `id`, in CONTINUATION frames if it is larger than a frame. */
  headers(id: number, block: Buffer, endStream: boolean): void;
  /** The stream is closed both ways (or reset): forget it. */
  streamClosed(stream: H2Stream): void;
}

/**
 * Stream WINDOW_UPDATEs are sent once this share of the window has been consumed, not at every
 * message (a quarter, as grpc-go does).
 */
const creditDivisor = 4;

/**
 * One HTTP/2 stream's state both ways: what the peer may still send (the receive window and the
 * credit handed back), what this side may send (the send window) and the DATA and trailers
 * waiting for it, and whether each side has ended.
 */
export class H2Stream {
  readonly id: number;
  readonly events: StreamEvents;
  readonly #host: StreamHost;
  /** Bytes this side may send on the stream (may go negative after a SETTINGS change). */
  sendWindow: number;
  /** Bytes the peer may still send on the stream. */
  receiveWindow: number;
  /** The window the peer is given on this stream: the initial one, or widened. */
  #windowBytes: number;
  /** What `expectMessage` widens the window to. */
  largeMessageWindowBytes = 0;
  #unacked = 0;
  remoteEnded = false;
  localEnded = false;
  closed = false;
  /** DATA waiting for window: pieces (gRPC prefixes included), in order. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #endAfter = false;
  #trailers: Buffer | undefined;
  #drained: (() => void) | undefined;

  constructor(
    host: StreamHost,
    id: number,
    events: StreamEvents,
    sendWindow: number,
    receiveWindow: number,
  ) {
    this.#host = host;
    this.id = id;
    this.events = events;
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
    this.#windowBytes = receiveWindow;
  }

  /** Bytes queued and not yet sent for want of window. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Sends one gRPC message (its 5-byte prefix, then `body`), ending the stream after it when
   * `end`. Returns false when some of it waits for window: `drained()` then says when it went.
   */
  message(body: Encoded, end: boolean): boolean {
    if (this.localEnded || this.closed) return true;
    const size = encodedSize(body);
    const length = 5 + size;
    const host = this.#host;
    if (
      this.#pendingBytes === 0 &&
      length <= this.sendWindow &&
      length <= host.sendWindow &&
      length <= host.maxFrameBytes
    ) {
      this.sendWindow -= length;
      host.sendWindow -= length;
      host.writer.message(this.id, end ? Flag.endStream : 0, size, body);
      if (end) this.#endLocal();
      return true;
    }
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0;
    prefix.writeUInt32BE(size, 1);
    this.#pending.push(prefix, ...body);
    this.#pendingBytes += length;
    if (end) this.#endAfter = true;
    this.pump();
    return this.#pendingBytes === 0;
  }

  /** Sends raw DATA bytes (not a gRPC message), ending the stream after them when `end`. */
  data(bytes: Buffer, end: boolean): void {
    if (this.localEnded || this.closed) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    if (end) this.#endAfter = true;
    this.pump();
  }

  /** Ends this side with an empty DATA frame (after what is queued). */
  end(): void {
    if (this.localEnded || this.closed || this.#endAfter) return;
    this.#endAfter = true;
    this.pump();
  }

  /** Ends this side with a trailers block (after what is queued). */
  trailers(block: Buffer): void {
    if (this.localEnded || this.closed || this.#endAfter) return;
    this.#trailers = block;
    this.#endAfter = true;
    this.pump();
  }

  /** Resolves once nothing waits for window (or the stream is gone). */
  drained(): Promise<void> {
    if (this.#pendingBytes === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Sends what the windows allow; called again when they grow. */
  pump(): void {
    const host = this.#host;
    while (this.#pendingBytes > 0 && !this.closed) {
      const length = Math.min(
        this.#pendingBytes,
        this.sendWindow,
        host.sendWindow,
        host.maxFrameBytes,
      );
      if (length <= 0) {
        if (host.sendWindow <= 0 && this.sendWindow > 0) host.waitForWindow(this);
        return;
      }
      const pieces = this.#take(length);
      this.sendWindow -= length;
      host.sendWindow -= length;
      const last = this.#pendingBytes === 0 && this.#endAfter && this.#trailers === undefined;
      host.writer.frameOf(FrameType.data, last ? Flag.endStream : 0, this.id, length, pieces);
      if (last) this.#endLocal();
    }
    if (this.closed) return;
    if (this.#endAfter && !this.localEnded) {
      const trailers = this.#trailers;
      this.#trailers = undefined;
      if (trailers !== undefined) host.headers(this.id, trailers, true);
      else host.writer.frame(FrameType.data, Flag.endStream, this.id);
      this.#endLocal();
    }
    this.#wake();
  }

  /** The peer's DATA of `length` bytes (padding included) arrived: false if over the window. */
  received(length: number): boolean {
    if (length > this.receiveWindow) return false;
    this.receiveWindow -= length;
    return true;
  }

  /**
   * A message of `bytes` has begun to arrive: when it is large against the window, widen the
   * window at once, so the peer sends it without waiting for credit a quarter at a time.
   */
  expectMessage(bytes: number): void {
    const target = this.largeMessageWindowBytes;
    const window = this.#windowBytes;
    if (bytes < window / creditDivisor || target <= window || this.remoteEnded || this.closed)
      return;
    this.#windowBytes = target;
    this.#grant(target - window);
  }

  /** `bytes` were consumed: hand them back to the peer once a quarter of the window is. */
  credit(bytes: number): void {
    if (this.remoteEnded || this.closed) return;
    this.#unacked += bytes;
    if (this.#unacked < this.#windowBytes / creditDivisor) return;
    const increment = this.#unacked;
    this.#unacked = 0;
    this.#grant(increment);
  }

  /** Gives the peer `increment` more bytes on this stream, in a WINDOW_UPDATE. */
  #grant(increment: number): void {
    this.receiveWindow += increment;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(increment, 0);
    this.#host.writer.frame(FrameType.windowUpdate, 0, this.id, payload);
  }

  /** The peer ended its side. */
  endRemote(): void {
    this.remoteEnded = true;
    if (this.localEnded) this.close();
  }

  /** Forgets the stream (both sides ended, or reset): queued data is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#host.streamClosed(this);
    this.#wake();
  }

  #endLocal(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.close();
  }

  #wake(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  /** Takes the first `length` bytes of the pending pieces, splitting one if needed. */
  #take(length: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let left = length;
    while (left > 0) {
      const piece = this.#pending[0]!;
      if (piece.byteLength <= left) {
        out.push(piece);
        this.#pending.shift();
        left -= piece.byteLength;
      } else {
        out.push(piece.subarray(0, left));
        this.#pending[0] = piece.subarray(left);
        left = 0;
      }
    }
    this.#pendingBytes -= length;
    return out;
  }
}
