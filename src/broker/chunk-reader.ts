import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { FrameSplitter } from "./frame-splitter.ts";

/** Node's `net.Socket` `onread` option: reads land in `buffer`, handed to `callback`. */
export interface OnRead {
  readonly buffer: Buffer;
  callback(bytes: number, buffer: Buffer): boolean;
}

/** Bytes of the one read buffer a chunk reader reuses: what Node reads at a time anyway. */
const readBufferBytes = 64 * 1024;

/**
 * A brokered byte stream read as borrowed chunks: views of one reused 64 KiB read buffer (the
 * socket's `onread`), each valid until the consumer asks for the next one. The socket reads again
 * only then, so nothing is allocated per read and no garbage builds up for V8 to collect late
 * (docs/performance.md §14). A socket without `onread` (TLS, a multiplexed stream) emits fresh
 * buffers: those pieces are handed out as they are, which keeps the same promise.
 *
 * Create it first, pass `onread` to the socket's constructor, then `attach` the socket.
 */
export class ChunkReader implements AsyncIterableIterator<Buffer> {
  readonly onread: OnRead;
  readonly #frames = new FrameSplitter();
  /** Pieces of the current read not yet handed out; the buffer is busy until they all are. */
  readonly #pending: Buffer[] = [];
  #socket: Duplex | undefined;
  #failure: PluginError | undefined;
  #done = false;
  #wake: (() => void) | undefined;

  constructor() {
    this.onread = {
      buffer: Buffer.allocUnsafe(readBufferBytes),
      callback: (bytes, buffer) => this.#take(buffer.subarray(0, bytes)),
    };
  }

  /** Starts reading `socket` (made with `this.onread` when it is a plain socket). */
  attach(socket: Duplex): this {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#take(chunk));
    const cutShort = () =>
      this.#fail(
        new PluginError(
          "DATA_LOSS",
          "the brokered byte stream ended before its sender finished (the other side closed or died)",
        ),
      );
    socket.once("end", cutShort);
    socket.once("close", cutShort);
    socket.on("error", (error: Error) =>
      this.#fail(
        new PluginError("UNAVAILABLE", `the brokered byte stream failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    return this;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next chunk; the one before it may be overwritten from now on. */
  async next(): Promise<IteratorResult<Buffer>> {
    for (;;) {
      const piece = this.#pending.shift();
      if (piece !== undefined) return { value: piece, done: false };
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#frames.ended) return this.#finish();
      if (this.#done) return { value: undefined, done: true };
      // Everything handed out was asked past: the buffer is free to read into again.
      this.#socket?.resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** A consumer that stops early (`break`) closes the connection: the writer fails UNAVAILABLE. */
  async return(): Promise<IteratorResult<Buffer>> {
    if (!this.#frames.ended || this.#pending.length > 0) this.#socket?.destroy();
    this.#done = true;
    this.#pending.length = 0;
    return { value: undefined, done: true };
  }

  /** Splits one read into pending pieces; returns whether the socket may read on at once. */
  #take(chunk: Buffer): boolean {
    if (this.#frames.ended || this.#done) return true;
    this.#frames.feed(chunk, (piece) => this.#pending.push(piece));
    this.#wakeUp();
    // A header alone leaves the buffer free; otherwise it is the consumer's until it asks again.
    if (this.#pending.length === 0) return true;
    this.#socket?.pause();
    return false;
  }

  /** The end marker and everything before it are out: read on to the FIN so the socket closes. */
  #finish(): IteratorResult<Buffer> {
    if (!this.#done) {
      this.#done = true;
      this.#socket?.end();
      this.#socket?.resume();
    }
    return { value: undefined, done: true };
  }

  #fail(error: PluginError): void {
    if (this.#frames.ended || this.#done || this.#failure !== undefined) return;
    this.#failure = error;
    this.#socket?.destroy();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
