import { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { streamClosedError } from "./errors.ts";
import { Flag, FrameType, initialStreamWindowBytes } from "./frame.ts";
import type { PendingWrite } from "./pending-write.ts";
import { pendingWrite, take } from "./pending-write.ts";
import { unrefTimeout } from "./timer.ts";

/** Largest Data frame this side sends; smaller frames interleave streams more fairly. */
export const maxDataFrameBytes = 64 * 1024;

/**
 * @private What a stream needs from its session. Internal code, does not follow semantic
 * versioning.
 */
export interface StreamLink {
  /** The receive window this side grants each stream. */
  readonly maxWindowBytes: number;
  /** How long a stream may wait for the peer's FIN after its own (0: forever). */
  readonly closeTimeoutMs: number;
  /** Why the session ended, once it has. */
  readonly failure: PluginError | undefined;
  /** False while the connection's write buffer is full. */
  readonly writable: boolean;
  /**
   * Writes one frame; `flushed` runs once the connection has written it. Returns false when the
   * connection's write buffer is full. Once the session has ended it writes nothing (and
   * `flushed` gets the failure).
   */
  send(
    type: FrameType,
    flags: number,
    streamId: number,
    length: number,
    body?: Buffer,
    flushed?: (error?: Error | null) => void,
  ): boolean;
  /** Calls `callback` once the connection can take more bytes (or the session ended). */
  whenWritable(callback: () => void): void;
  /** The stream is finished on the wire (FIN both ways, or RST): the session forgets it. */
  release(stream: YamuxStream): void;
}

/**
 * @private The session-facing side of a stream, keyed by a symbol so it stays off the public
 * surface. Internal code, does not follow semantic versioning.
 */
export interface StreamFrames {
  /** Sends the stream's first frame (SYN for opened streams, ACK for accepted ones). */
  establish(): void;
  /** Reserves `length` bytes of the receive window for a Data frame; false if it is exceeded. */
  reserve(length: number): boolean;
  payload(chunk: Buffer): void;
  windowUpdate(delta: number): void;
  fin(): void;
  /**
   * The peer reset the stream (or, for a SYN not sent yet, refused all new streams): the stream
   * is released from the session and destroyed.
   */
  reset(reason: PluginError): void;
  /** The session ended: with `reason` after a failure it detected, without one otherwise. */
  sessionClosed(reason: PluginError | undefined): void;
}

export const streamFrames = Symbol("plugwire.yamux.streamFrames");

/** `origin` of a stream: opened by this side (sends SYN) or by the peer (sends ACK on accept). */
export type StreamOrigin = "local" | "remote";

/**
 * One yamux stream: a `Duplex` whose writes are Data frames within the peer's receive window and
 * whose reads grant the peer more window as the consumer reads (so a slow reader slows the
 * writer instead of growing memory). `end()` half-closes (FIN); `destroy()` closes (FIN, as
 * hashicorp/yamux's `Close()`); `destroy(error)` and `reset()` reset (RST). A RST from the peer
 * destroys the stream with `UNAVAILABLE`. Obtain streams from `YamuxSession.open()` and `accept()`.
 */
export class YamuxStream extends Duplex {
  /** Stream id: odd when the yamux client opened it, even when the server did. */
  readonly id: number;
  readonly [streamFrames]: StreamFrames;
  readonly #link: StreamLink;
  /** SYN or ACK still to be carried by the next frame we send. */
  #pendingFlags = 0;
  /** SYN sent (local streams) or ACK sent (remote ones, on accept): frames may flow. */
  #established: boolean;
  readonly #origin: StreamOrigin;
  /** `end()` called before the SYN could go out. */
  #pendingFinal: ((error?: Error | null) => void) | undefined;
  #sendWindow = initialStreamWindowBytes;
  #recvWindow = initialStreamWindowBytes;
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** Rest of the Data frame being received: out of the window, not in the queue yet. */
  #arriving = 0;
  #wantsData = false;
  #updateScheduled = false;
  #remoteFin = false;
  #eofPushed = false;
  #localFin = false;
  /** Gone from the session: FIN both ways, RST either way, or the session ended. */
  #released = false;
  #write: PendingWrite | undefined;
  #waitingWritable = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #resetRequested = false;

  /** @private Streams are created by `YamuxSession`. */
  constructor(link: StreamLink, id: number, origin: StreamOrigin) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: 64 * 1024,
      writableHighWaterMark: 64 * 1024,
    });
    this.#link = link;
    this.id = id;
    this.#established = false;
    this.#origin = origin;
    this.#pendingFlags = origin === "local" ? Flag.SYN : Flag.ACK;
    this[streamFrames] = {
      establish: () => {
        this.#established = true;
        this.#updateWindow();
        this.#pump();
        const final = this.#pendingFinal;
        this.#pendingFinal = undefined;
        if (final !== undefined) this._final(final);
      },
      reserve: (length) => {
        if (length > this.#recvWindow) return false;
        this.#recvWindow -= length;
        this.#arriving = length;
        return true;
      },
      payload: (chunk) => {
        this.#arriving -= chunk.length;
        // Data after the peer's FIN breaks the protocol; a Readable cannot take it after EOF.
        if (this.destroyed || this.#remoteFin) return;
        this.#queue.push(chunk);
        this.#queuedBytes += chunk.length;
        if (this.#wantsData) this.#drain();
      },
      windowUpdate: (delta) => {
        this.#sendWindow += delta;
        this.#pump();
      },
      fin: () => {
        if (this.#remoteFin) return;
        this.#remoteFin = true;
        if (this.#localFin) this.#release();
        if (!this.destroyed) this.#drain();
      },
      reset: (reason) => {
        this.#release();
        this.#abandon(reason);
      },
      sessionClosed: (reason) => {
        // The session has forgotten its streams already.
        this.#forget();
        this.#abandon(reason);
      },
    };
  }

  /**
   * Aborts the stream: RST to the peer (whose side fails with `UNAVAILABLE`), and this side is
   * destroyed without an error (no 'error' event), e.g. to refuse a stream nobody will serve.
   */
  reset(): void {
    this.#resetRequested = true;
    this.destroy();
  }

  override _read(): void {
    this.#wantsData = true;
    this.#drain();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#write = pendingWrite([chunk], callback);
    this.#pump();
  }

  /** Writes buffered while a write waited: small ones share frames, big ones are not copied. */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.#write = pendingWrite(
      chunks.map((c) => c.chunk),
      callback,
    );
    this.#pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#established && this.#origin === "local") {
      this.#pendingFinal = callback;
      return;
    }
    const failure = this.#link.failure;
    if (failure !== undefined) {
      callback(failure);
      return;
    }
    if (this.#released) {
      callback(streamClosedError(this.id));
      return;
    }
    this.#sendFin();
    callback();
  }

  /**
   * `destroy(error)` resets the stream (RST). `destroy()` without an error closes it as
   * hashicorp/yamux's `Close()` does: FIN (if not sent yet), then the stream lingers, dropping what
   * arrives, until the peer's FIN (or a RST after `streamCloseTimeoutMs`). So an HTTP/2 or TLS
   * connection that destroys its socket on a normal close does not look like an abort to the peer.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#write = undefined;
    // A stream whose SYN never went out does not exist for the peer: nothing to tell it.
    const known = this.#established || this.#origin === "remote";
    if (!this.#released) {
      if (!known || this.#link.failure !== undefined) {
        this.#release();
      } else if (error !== null || this.#resetRequested) {
        this.#sendReset();
      } else if (!this.#localFin) {
        this.#sendFin();
      }
    }
    callback(error);
  }

  /** Half-closes (FIN); the stream is done once the peer's FIN arrives too. */
  #sendFin(): void {
    this.#localFin = true;
    this.#link.send(FrameType.WINDOW_UPDATE, this.#takeFlags() | Flag.FIN, this.id, 0);
    if (this.#remoteFin) {
      this.#release();
    } else if (this.#link.closeTimeoutMs > 0) {
      // hashicorp/yamux's StreamCloseTimeout: a peer that never answers our FIN gets a RST.
      this.#closeTimer = unrefTimeout(this.#link.closeTimeoutMs, () => this.#closeTimedOut());
    }
  }

  #closeTimedOut(): void {
    if (this.#released) return;
    if (!this.destroyed) {
      this.destroy(
        new PluginError(
          "DEADLINE_EXCEEDED",
          `yamux stream ${this.id}: the peer did not close its side within ${this.#link.closeTimeoutMs} ms`,
        ),
      );
      return;
    }
    this.#sendReset();
  }

  /** Resets the stream on the wire (RST; nothing goes out once the session has ended) and releases it. */
  #sendReset(): void {
    this.#link.send(FrameType.WINDOW_UPDATE, Flag.RST, this.id, 0);
    this.#release();
  }

  /** Flags the next frame must carry: SYN on an opened stream's first frame, ACK on an accepted one's. */
  #takeFlags(): number {
    const flags = this.#pendingFlags;
    this.#pendingFlags = 0;
    return flags;
  }

  /**
   * Destroyed from the wire or the session: with `reason`, except a remote stream nobody accepted
   * yet, which has nobody to tell (and no 'error' listener).
   */
  #abandon(reason: PluginError | undefined): void {
    if (this.destroyed) return;
    if (reason === undefined || (this.#origin === "remote" && !this.#established)) this.destroy();
    else this.destroy(reason);
  }

  /** Done on the wire: the session forgets the stream. */
  #release(): void {
    this.#forget();
    this.#link.release(this);
  }

  /** Done on the wire, and the session already knows. */
  #forget(): void {
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#released = true;
  }

  /** Sends as much of the pending write as the peer's window and the connection allow. */
  #pump(): void {
    for (;;) {
      const write = this.#write;
      if (write === undefined || this.destroyed) return;
      const failure = this.#link.failure;
      if (failure !== undefined || this.#released) {
        this.#write = undefined;
        write.callback(failure ?? streamClosedError(this.id));
        return;
      }
      if (!this.#established || this.#sendWindow === 0 || this.#waitingWritable) return;
      if (!this.#link.writable) {
        this.#waitingWritable = true;
        this.#link.whenWritable(() => {
          this.#waitingWritable = false;
          this.#pump();
        });
        return;
      }
      const n = Math.min(this.#sendWindow, write.remaining, maxDataFrameBytes);
      const body = take(write, n);
      this.#sendWindow -= n;
      if (write.remaining > 0) {
        this.#link.send(FrameType.DATA, this.#takeFlags(), this.id, n, body);
        continue;
      }
      this.#write = undefined;
      // The write completes when the connection has flushed it (as on a net.Socket), so a
      // caller may reuse its buffer after the callback.
      this.#link.send(FrameType.DATA, this.#takeFlags(), this.id, n, body, (error) => {
        if (!this.destroyed) write.callback(error);
      });
      return;
    }
  }

  /** Hands queued data to the consumer while it wants more, then grants window for what it took. */
  #drain(): void {
    while (this.#wantsData && this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queuedBytes -= chunk.length;
      if (!this.push(chunk)) this.#wantsData = false;
      if (this.destroyed) return;
    }
    if (this.#queue.length === 0 && this.#remoteFin && !this.#eofPushed) {
      this.#eofPushed = true;
      this.push(null);
    }
    // Decided once the connection's current read is parsed: a FIN in the same read makes the
    // update pointless, and the peer may have forgotten the stream by the time it arrives
    // (hashicorp/yamux then logs "frame for missing stream").
    if (!this.#updateScheduled) {
      this.#updateScheduled = true;
      queueMicrotask(() => {
        this.#updateScheduled = false;
        this.#updateWindow();
      });
    }
  }

  /**
   * hashicorp/yamux's rule: grant the peer the room the consumer freed, once it is at least half
   * the window (or when a SYN/ACK must go out anyway).
   */
  #updateWindow(): void {
    if (!this.#established || this.#released || this.destroyed) return;
    if (this.#link.failure !== undefined) return;
    // After the peer's FIN more window is useless (and hashicorp/yamux logs frames for streams
    // it has forgotten), but a pending SYN/ACK still goes out.
    if (this.#remoteFin && this.#pendingFlags === 0) return;
    const max = this.#link.maxWindowBytes;
    const delta = max - this.#queuedBytes - this.#arriving - this.#recvWindow;
    if (delta < max / 2 && this.#pendingFlags === 0) return;
    this.#recvWindow += delta;
    this.#link.send(FrameType.WINDOW_UPDATE, this.#takeFlags(), this.id, delta);
  }
}
