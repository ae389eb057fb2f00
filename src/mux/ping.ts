import { PluginError } from "../errors/plugin-error.ts";
import type { FrameHeader } from "./frame.ts";
import { Flag, FrameType } from "./frame.ts";
import type { FrameWriter } from "./frame-writer.ts";
import type { SessionControl } from "./session-control.ts";
import { unrefTimeout } from "./timer.ts";

interface PendingPing {
  readonly resolve: (rttMs: number) => void;
  readonly reject: (error: PluginError) => void;
  readonly timer: NodeJS.Timeout;
  readonly started: number;
}

/** A session's pings: ours and their answers, the peer's (answered at once), and keep-alive. */
export class Pinger {
  readonly #writer: FrameWriter;
  readonly #session: SessionControl;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, PendingPing>();
  readonly #keepAlive: NodeJS.Timeout | undefined;
  #nextId = 0;

  /**
   * `timeoutMs`: how long a ping may wait for its answer. `keepAliveMs`: interval of keep-alive
   * pings (0: none); one that goes unanswered fails the session.
   */
  constructor(
    writer: FrameWriter,
    session: SessionControl,
    timeoutMs: number,
    keepAliveMs: number,
  ) {
    this.#writer = writer;
    this.#session = session;
    this.#timeoutMs = timeoutMs;
    if (keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => this.#keepAlivePing(), keepAliveMs);
      this.#keepAlive.unref();
    }
  }

  /** Round-trip time of one ping in ms. Rejects with `DEADLINE_EXCEEDED` after `timeoutMs`. */
  ping(): Promise<number> {
    const failure = this.#session.failure;
    if (failure !== undefined) return Promise.reject(failure);
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0;
    return new Promise((resolve, reject) => {
      const timer = unrefTimeout(this.#timeoutMs, () => {
        this.#pending.delete(id);
        reject(
          new PluginError(
            "DEADLINE_EXCEEDED",
            `the yamux peer did not answer a ping within ${this.#timeoutMs} ms`,
          ),
        );
      });
      this.#pending.set(id, { resolve, reject, timer, started: performance.now() });
      this.#writer.send(FrameType.PING, Flag.SYN, 0, id);
    });
  }

  /** A Ping frame: a request (SYN) is answered with its value, an answer settles our ping. */
  received(header: FrameHeader): void {
    if ((header.flags & Flag.SYN) !== 0) {
      this.#writer.send(FrameType.PING, Flag.ACK, 0, header.length);
      return;
    }
    const ping = this.#pending.get(header.length);
    if (ping === undefined) return;
    this.#pending.delete(header.length);
    clearTimeout(ping.timer);
    ping.resolve(performance.now() - ping.started);
  }

  /** The session has ended: no more keep-alive, and pings still waiting fail with `reason`. */
  close(reason: PluginError): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    for (const ping of this.#pending.values()) {
      clearTimeout(ping.timer);
      ping.reject(reason);
    }
    this.#pending.clear();
  }

  #keepAlivePing(): void {
    this.ping().catch((error: unknown) => {
      if (this.#session.failure !== undefined) return;
      this.#session.fail(
        new PluginError("UNAVAILABLE", "yamux keep-alive failed: the peer did not answer a ping", {
          cause: error,
        }),
      );
    });
  }
}
