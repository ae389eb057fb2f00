import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { FrameSplitter } from "./frame-splitter.ts";
import type { Slot } from "./read-slots.ts";
import { ReadSlots } from "./read-slots.ts";

/** Node's `net.Socket` `onread` option: each read lands in the buffer `buffer()` gave last. */
export interface OnRead {
  buffer(): Buffer;
  callback(bytes: number, buffer: Buffer): boolean;
}

/**
 * A brokered byte stream read as borrowed chunks: views of a few reused 64 KiB read buffers (the
 * socket's `onread`, src/broker/read-slots.ts), each valid until the consumer asks for the next
 * one. Nothing is allocated per read, so no garbage builds up for V8 to collect late
 * (docs/performance.md §14), plain or under TLS (a TLS socket made with `onread`, whose 16 KiB
 * records land side by side and go out joined, §17). The socket reads ahead while two buffers
 * are free and pauses then. A stream without `onread` (a multiplexed one) emits fresh buffers:
 * those pieces are handed out as they are, one read ahead, which keeps the same promise.
 *
 * Create it first, pass `onread` to the socket's constructor, then `attach` the socket.
 */
export class ChunkReader implements AsyncIterableIterator<Buffer> {
  readonly onread: OnRead;
  readonly #frames = new FrameSplitter();
  readonly #slots = new ReadSlots();
  /** Pieces read and not yet handed out, and the slot each points into (none: a fresh buffer). */
  readonly #pending: Buffer[] = [];
  readonly #pendingSlots: (Slot | undefined)[] = [];
  /** The slot of the piece handed out last: in use until the consumer asks for the next. */
  #held: Slot | undefined;
  /** Whether reads come through `onread` (into slots) rather than as 'data'. */
  #intoSlots = false;
  #paused = false;
  #socket: Duplex | undefined;
  #failure: PluginError | undefined;
  #done = false;
  #wake: (() => void) | undefined;

  constructor() {
    this.onread = {
      buffer: () => this.#slots.window(),
      callback: (bytes, buffer) => {
        this.#intoSlots = true;
        return this.#take(buffer.subarray(0, bytes), this.#slots.landed(bytes));
      },
    };
  }

  /** Starts reading `socket` (made with `this.onread` when it can take it). */
  attach(socket: Duplex): this {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#take(chunk, undefined));
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
    if (this.#held !== undefined) this.#held.refs--;
    this.#held = undefined;
    for (;;) {
      const piece = this.#pending.shift();
      if (piece !== undefined) {
        this.#held = this.#pendingSlots.shift();
        this.#readOnIfRoom();
        return { value: piece, done: false };
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#frames.ended) return this.#finish();
      if (this.#done) return { value: undefined, done: true };
      this.#readOnIfRoom();
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
  #take(chunk: Buffer, slot: Slot | undefined): boolean {
    if (this.#frames.ended || this.#done) return true;
    this.#frames.feed(chunk, (piece) => this.#queue(piece, slot));
    this.#wakeUp();
    // Slots: read ahead while two are free. Fresh buffers: one read ahead; a header alone is none.
    if (this.#intoSlots ? this.#slots.hasRoom() : this.#pending.length === 0) return true;
    this.#paused = true;
    this.#socket?.pause();
    return false;
  }

  /** Queues a piece, joined to the one before it when it continues it in the same slot. */
  #queue(piece: Buffer, slot: Slot | undefined): void {
    const last = this.#pending.length - 1;
    const before = this.#pending[last];
    if (
      slot !== undefined &&
      before !== undefined &&
      this.#pendingSlots[last] === slot &&
      before.byteOffset + before.length === piece.byteOffset
    ) {
      this.#pending[last] = slot.buffer.subarray(
        before.byteOffset,
        piece.byteOffset + piece.length,
      );
      return;
    }
    if (slot !== undefined) slot.refs++;
    this.#pending.push(piece);
    this.#pendingSlots.push(slot);
  }

  /** Resumes a paused socket once what was handed out leaves room for its reads again. */
  #readOnIfRoom(): void {
    if (!this.#paused) return;
    if (this.#intoSlots ? !this.#slots.hasRoom() : this.#pending.length > 0) return;
    this.#paused = false;
    this.#socket?.resume();
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
