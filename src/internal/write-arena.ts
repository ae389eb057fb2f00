/** Room for small frames; a new arena is taken when a frame does not fit what is left. */
const arenaBytes = 64 * 1024;

/**
 * What one turn of a framing's writer queues for the socket, in order: small frames written into
 * a shared arena (no buffer per frame, no joining at the flush), large pieces appended by
 * reference. Bytes of the arena already taken for the socket are never written again: the next
 * frames go after them, and a full arena is replaced, not reused. plugwire's HTTP/2 writer
 * (`rpc/h2/writer.ts`) and the fast wire's (`rpc/fast/frames.ts`) both queue through one.
 */
export class WriteArena {
  #arena = Buffer.allocUnsafe(arenaBytes);
  /** Where the next bytes go in the arena, and where the bytes not yet queued start. */
  #at = 0;
  #from = 0;
  #queue: Buffer[] = [];

  /** The arena `reserve`'s offsets are in (read it after reserving: reserving may replace it). */
  get buffer(): Buffer {
    return this.#arena;
  }

  /** Room for `bytes` in the arena; returns where they go. */
  reserve(bytes: number): number {
    if (this.#at + bytes > this.#arena.byteLength) {
      this.#cut();
      this.#arena = Buffer.allocUnsafe(Math.max(arenaBytes, bytes));
      this.#at = 0;
      this.#from = 0;
    }
    const at = this.#at;
    this.#at += bytes;
    return at;
  }

  /** Copies `bytes` into the arena. */
  copy(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    const at = this.reserve(bytes.byteLength);
    this.#arena.set(bytes, at);
  }

  /** Queues `bytes` as they are, after everything queued so far. */
  append(bytes: Uint8Array): void {
    this.#cut();
    this.#queue.push(toBuffer(bytes));
  }

  /** Everything queued since the last take, in order; the arena goes on after it. */
  take(): Buffer[] {
    this.#cut();
    const queue = this.#queue;
    this.#queue = [];
    return queue;
  }

  /** Drops what is queued. */
  clear(): void {
    this.#from = this.#at;
    this.#queue = [];
  }

  /** Queues the arena's bytes written since the last cut, keeping the order of the frames. */
  #cut(): void {
    if (this.#at === this.#from) return;
    this.#queue.push(this.#arena.subarray(this.#from, this.#at));
    this.#from = this.#at;
  }
}

function toBuffer(piece: Uint8Array): Buffer {
  return Buffer.isBuffer(piece)
    ? piece
    : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}
