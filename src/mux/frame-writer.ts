import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import type { FrameType } from "./frame.ts";
import { encodeHeader } from "./frame.ts";
import type { SessionControl } from "./session-control.ts";
import { unrefTimeout } from "./timer.ts";

/**
 * The session's way out: writes frames onto the connection, watches that the connection keeps
 * taking bytes, wakes the streams that wait for room, and ends the connection when the session
 * is over.
 */
export class FrameWriter {
  readonly #socket: Duplex;
  readonly #timeoutMs: number;
  readonly #session: SessionControl;
  /** Streams waiting for the connection's write buffer to drain. */
  readonly #writableWaiters: Array<() => void> = [];
  #stallTimer: NodeJS.Timeout | undefined;

  /** `timeoutMs`: how long the connection may take no bytes before the session fails. */
  constructor(socket: Duplex, timeoutMs: number, session: SessionControl) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#session = session;
    socket.on("drain", () => this.#onDrain());
  }

  /** False while the connection's write buffer is full, and once the session has ended. */
  get writable(): boolean {
    return this.#session.failure === undefined && !this.#socket.writableNeedDrain;
  }

  /**
   * Writes one frame; `flushed` runs once the connection has written it (or with the session's
   * failure if it never will). Returns false when the connection's write buffer is full.
   */
  send(
    type: FrameType,
    flags: number,
    streamId: number,
    length: number,
    body?: Buffer,
    flushed?: (error?: Error | null) => void,
  ): boolean {
    const socket = this.#socket;
    if (this.#session.failure !== undefined || !socket.writable) {
      if (flushed !== undefined) queueMicrotask(() => flushed(this.#session.failure));
      return false;
    }
    const header = encodeHeader(type, flags, streamId, length);
    let ok: boolean;
    if (body === undefined) {
      ok = socket.write(header, flushed);
    } else if (body.length <= 4096) {
      ok = socket.write(Buffer.concat([header, body]), flushed);
    } else {
      socket.cork();
      socket.write(header);
      ok = socket.write(body, flushed);
      socket.uncork();
    }
    if (!ok && this.#stallTimer === undefined) {
      // hashicorp/yamux's "safety valve": a connection that takes no bytes for this long is dead.
      this.#stallTimer = unrefTimeout(this.#timeoutMs, () => {
        this.#session.fail(
          new PluginError(
            "UNAVAILABLE",
            `yamux connection write timeout: no progress for ${this.#timeoutMs} ms`,
          ),
        );
      });
    }
    return ok;
  }

  /** Calls `callback` once the connection can take more bytes (or the session has ended). */
  whenWritable(callback: () => void): void {
    if (this.#session.failure !== undefined) queueMicrotask(callback);
    else this.#writableWaiters.push(callback);
  }

  /**
   * The session has ended: wakes the streams still waiting (they find the failure), then ends the
   * connection after what is queued (a GoAway included), destroying it if that gets stuck.
   */
  close(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    for (const wake of this.#writableWaiters.splice(0)) wake();
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end();
    const timer = unrefTimeout(this.#timeoutMs, () => socket.destroy());
    socket.once("close", () => clearTimeout(timer));
  }

  #onDrain(): void {
    if (this.#stallTimer !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    for (const wake of this.#writableWaiters.splice(0)) wake();
  }
}
