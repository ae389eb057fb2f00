import type { Duplex } from "node:stream";
import { EarlyWrites } from "../../internal/early-writes.ts";
import { WriteArena } from "../../internal/write-arena.ts";
import { writeQueued } from "../../internal/write-queued.ts";
import { Flag, FrameType, frameHeaderBytes, writeFrameHeader } from "./frames.ts";

/** Payload pieces from this size on are written by reference, not copied. */
const referenceBytes = 16 * 1024;

/**
 * Queues HTTP/2 frames and writes everything queued in one turn of the event loop in one write,
 * as the fast wire's FrameWriter does (../fast/frames.ts): 64 calls answered together cost one
 * syscall, or a few (`EarlyWrites`: a frame ending a stream counts as a whole call or reply).
 * Small frames are written into a shared arena (no buffer per frame); large payload pieces are
 * appended as they are (`WriteArena`).
 */
export class FrameWriter {
  readonly #socket: Duplex;
  readonly #onBlocked: (() => void) | undefined;
  readonly #arena = new WriteArena();
  #scheduled = false;
  /** An answer waits for the end of this pass of the event loop. */
  #answering = false;
  #closed = false;
  readonly #early = new EarlyWrites();

  /** `onBlocked`: a write was refused (the socket's buffer is full until its 'drain'). */
  constructor(socket: Duplex, onBlocked?: () => void) {
    this.#socket = socket;
    this.#onBlocked = onBlocked;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues raw bytes (the client preface). */
  raw(bytes: Buffer): void {
    if (this.#closed) return;
    this.#arena.append(bytes);
    this.#schedule();
  }

  /** Queues a frame whose payload is `payload` (may be absent). */
  frame(type: number, flags: number, streamId: number, payload?: Buffer): void {
    if (this.#closed) return;
    const length = payload?.byteLength ?? 0;
    if (length >= referenceBytes) {
      this.frameOf(type, flags, streamId, length, [payload!]);
      return;
    }
    this.#copy(type, flags, streamId, payload);
    this.#schedule();
  }

  /** Writes a small frame into the arena. */
  #copy(type: number, flags: number, streamId: number, payload: Buffer | undefined): void {
    const length = payload?.byteLength ?? 0;
    const at = this.#arena.reserve(frameHeaderBytes + length);
    const arena = this.#arena.buffer;
    writeFrameHeader(arena, at, length, type, flags, streamId);
    if (payload !== undefined) payload.copy(arena, at + frameHeaderBytes);
  }

  /**
   * Queues a frame answering the peer (a PING's ack) that nothing on this side waits for: it goes out with whatever this pass of the event loop writes next (a reply to the call
   * that came in the same read), or on its own once the pass is over (`setImmediate`), not in a
   * write and a wake-up of the peer of its own. A Go peer pings after every reply it receives
   * (grpc-go's BDP estimator), so this is one write per call fewer.
   */
  answer(type: number, flags: number, payload?: Buffer): void {
    if (this.#closed) return;
    this.#copy(type, flags, 0, payload);
    if (this.#scheduled || this.#answering) return;
    this.#answering = true;
    setImmediate(this.#endPass);
  }

  readonly #endPass = (): void => {
    this.#answering = false;
    this.flush();
  };

  /**
   * Queues a frame of `length` bytes made of `pieces` (a DATA frame: the gRPC prefix, then the
   * message's pieces). Pieces under 16 KiB are copied; larger ones go by reference.
   */
  frameOf(
    type: number,
    flags: number,
    streamId: number,
    length: number,
    pieces: readonly Uint8Array[],
  ): void {
    if (this.#closed) return;
    const head = this.#arena.reserve(frameHeaderBytes);
    writeFrameHeader(this.#arena.buffer, head, length, type, flags, streamId);
    this.#pieces(pieces);
    this.#schedule();
  }

  /**
   * Queues one DATA frame holding a whole gRPC message: the 5-byte prefix (not compressed,
   * big-endian length) written into the arena with the frame header, then `body`.
   */
  message(streamId: number, flags: number, size: number, body: readonly Uint8Array[]): void {
    if (this.#closed) return;
    const at = this.#arena.reserve(frameHeaderBytes + 5);
    const arena = this.#arena.buffer;
    writeFrameHeader(arena, at, 5 + size, 0x0, flags, streamId);
    arena[at + 9] = 0;
    arena.writeUInt32BE(size, at + 10);
    this.#pieces(body);
    this.#schedule();
    if ((flags & Flag.endStream) !== 0) this.#ended();
  }

  /** Queues a header block: one HEADERS frame, or HEADERS and CONTINUATIONs of `maxFrameBytes`. */
  headers(streamId: number, block: Buffer, endStream: boolean, maxFrameBytes: number): void {
    const end = endStream ? Flag.endStream : 0;
    if (block.byteLength <= maxFrameBytes) {
      this.frame(FrameType.headers, end | Flag.endHeaders, streamId, block);
    } else {
      this.frame(FrameType.headers, end, streamId, block.subarray(0, maxFrameBytes));
      for (let at = maxFrameBytes; at < block.byteLength; at += maxFrameBytes) {
        const last = at + maxFrameBytes >= block.byteLength;
        const piece = block.subarray(at, Math.min(at + maxFrameBytes, block.byteLength));
        this.frame(FrameType.continuation, last ? Flag.endHeaders : 0, streamId, piece);
      }
    }
    if (endStream) this.#ended();
  }

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

  /** A frame's payload pieces: under 16 KiB copied, larger ones by reference. */
  #pieces(pieces: readonly Uint8Array[]): void {
    for (const piece of pieces) {
      if (piece.byteLength >= referenceBytes) this.#arena.append(piece);
      else this.#arena.copy(piece);
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(this.#endTurn);
  }

  readonly #endTurn = (): void => {
    this.#scheduled = false;
    this.#early.reset();
    this.flush();
  };

  /** A frame ending a stream (a whole request or reply) was queued. */
  #ended(): void {
    if (this.#early.counted()) this.flush();
  }
}
