/**
 * Splits the bytes of a brokered byte stream (4-byte big-endian length per chunk, zero length =
 * end; src/broker/byte-frames.ts) into payload pieces as they arrive, without assembling frames:
 * a piece is a view of the chunk it came in, so no byte is copied and nothing is allocated per
 * frame (a 256 KiB frame arriving in 64 KiB socket reads used to be assembled into a new buffer,
 * which doubled the garbage; docs/performance.md §14). A length is never allocated, so a hostile
 * one costs nothing. Only a header split across two chunks is copied, into four reused bytes.
 */
export class FrameSplitter {
  readonly #header = Buffer.alloc(4);
  #headerBytes = 0;
  /** Payload bytes still to come in the current frame; 0 between frames. */
  #remaining = 0;
  #ended = false;

  /** Whether the end marker has been read. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Hands each payload piece of `chunk` to `piece` (views of `chunk`, valid as long as it is) and
   * returns whether the end marker was read; bytes after it are ignored (a writer sends none).
   */
  feed(chunk: Buffer, piece: (payload: Buffer) => void): boolean {
    let at = 0;
    while (at < chunk.length && !this.#ended) {
      if (this.#remaining === 0) {
        at = this.#readHeader(chunk, at);
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - at);
      piece(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n));
      this.#remaining -= n;
      at += n;
    }
    return this.#ended;
  }

  /** Reads (the rest of) a length header from `chunk` at `at`; returns where the payload starts. */
  #readHeader(chunk: Buffer, at: number): number {
    let length: number;
    if (this.#headerBytes === 0 && chunk.length - at >= 4) {
      length = chunk.readUInt32BE(at);
      at += 4;
    } else {
      const n = Math.min(4 - this.#headerBytes, chunk.length - at);
      chunk.copy(this.#header, this.#headerBytes, at, at + n);
      this.#headerBytes += n;
      at += n;
      if (this.#headerBytes < 4) return at;
      this.#headerBytes = 0;
      length = this.#header.readUInt32BE(0);
    }
    if (length === 0) this.#ended = true;
    this.#remaining = length;
    return at;
  }
}
