import { PluginError } from "../errors/plugin-error.ts";
import { goAwayError } from "./errors.ts";
import { Flag, FrameType } from "./frame.ts";
import type { SessionControl } from "./session-control.ts";
import type { YamuxRole } from "./session-options.ts";
import type { StreamLink, StreamOrigin } from "./stream.ts";
import { streamFrames, YamuxStream } from "./stream.ts";
import { unrefTimeout } from "./timer.ts";

interface AcceptWaiter {
  readonly resolve: (stream: YamuxStream) => void;
  readonly reject: (error: PluginError) => void;
}

const maxStreamId = 0xffff_ffff;

/** What the peer's SYN came to: a new stream, a refusal (RST sent), or a protocol error. */
export type Incoming = "registered" | "refused" | "duplicate";

/**
 * A session's streams by id, with the two queues around them: our opens waiting for the peer's
 * ACK (at most `acceptBacklog` in flight, the rest hold back their SYN), and the peer's opens
 * waiting for `accept()` (at most `acceptBacklog`, the rest are refused).
 */
export class StreamTable {
  readonly #link: StreamLink;
  readonly #session: SessionControl;
  readonly #acceptBacklog: number;
  readonly #openTimeoutMs: number;
  readonly #streams = new Map<number, YamuxStream>();
  /** Streams we opened whose ACK has not arrived, with their open timers. */
  readonly #inflight = new Map<number, NodeJS.Timeout | undefined>();
  /** Streams opened while `acceptBacklog` SYNs were unacknowledged: their SYN waits. */
  readonly #waitingSyn: YamuxStream[] = [];
  /** Streams the peer opened that nobody accepted yet. */
  readonly #backlog: YamuxStream[] = [];
  readonly #acceptWaiters: AcceptWaiter[] = [];
  #nextStreamId: number;

  constructor(
    link: StreamLink,
    session: SessionControl,
    options: { role: YamuxRole; acceptBacklog: number; streamOpenTimeoutMs: number },
  ) {
    this.#link = link;
    this.#session = session;
    this.#acceptBacklog = options.acceptBacklog;
    this.#openTimeoutMs = options.streamOpenTimeoutMs;
    this.#nextStreamId = options.role === "client" ? 1 : 2;
  }

  /** Streams tracked: open, half-closed, or waiting to be accepted. */
  get size(): number {
    return this.#streams.size;
  }

  get(id: number): YamuxStream | undefined {
    return this.#streams.get(id);
  }

  /** A new stream of ours; its SYN goes out now, or once an ACK frees a place. */
  open(): YamuxStream {
    const id = this.#nextStreamId;
    if (id >= maxStreamId - 1) {
      throw new PluginError("RESOURCE_EXHAUSTED", "yamux stream ids are exhausted");
    }
    this.#nextStreamId += 2;
    const stream = this.#register(id, "local");
    if (this.#inflight.size < this.#acceptBacklog) this.#sendSyn(stream);
    else this.#waitingSyn.push(stream);
    return stream;
  }

  /** The next stream the peer opened, acknowledged; rejects with the failure once the session ended. */
  accept(): Promise<YamuxStream> {
    for (;;) {
      const stream = this.#backlog.shift();
      if (stream === undefined) break;
      if (stream.destroyed) continue;
      stream[streamFrames].establish();
      return Promise.resolve(stream);
    }
    const failure = this.#session.failure;
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => this.#acceptWaiters.push({ resolve, reject }));
  }

  /** A SYN from the peer: registers the stream, or refuses it with RST (`refuse`: we sent GoAway). */
  incoming(id: number, refuse: boolean): Incoming {
    if (refuse || this.#backlog.length >= this.#acceptBacklog) {
      this.#link.send(FrameType.WINDOW_UPDATE, Flag.RST, id, 0);
      return "refused";
    }
    if (id === 0 || this.#streams.has(id)) return "duplicate";
    const stream = this.#register(id, "remote");
    const waiter = this.#acceptWaiters.shift();
    if (waiter === undefined) {
      this.#backlog.push(stream);
    } else {
      stream[streamFrames].establish();
      waiter.resolve(stream);
    }
    return "registered";
  }

  /** The peer's ACK for one of our streams: its place in flight goes to the next waiting SYN. */
  acknowledged(id: number): void {
    if (!this.#inflight.has(id)) return;
    clearTimeout(this.#inflight.get(id));
    this.#inflight.delete(id);
    for (;;) {
      const next = this.#waitingSyn.shift();
      if (next === undefined) return;
      if (next.destroyed) continue;
      this.#sendSyn(next);
      return;
    }
  }

  /** The stream is finished on the wire: forgotten, wherever it waited. */
  release(stream: YamuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    for (const list of [this.#backlog, this.#waitingSyn]) {
      const index = list.indexOf(stream);
      if (index >= 0) list.splice(index, 1);
    }
    this.acknowledged(stream.id);
  }

  /** The peer sent GoAway: streams whose SYN has not gone out yet never will. */
  peerGoAway(): void {
    for (const stream of this.#waitingSyn.splice(0)) stream[streamFrames].reset(goAwayError());
  }

  /**
   * The session has ended: `accept()` waiters fail with `reason`, the streams are destroyed (with
   * `streamError`, if any) and forgotten.
   */
  close(reason: PluginError, streamError: PluginError | undefined): void {
    for (const timer of this.#inflight.values()) clearTimeout(timer);
    this.#inflight.clear();
    this.#waitingSyn.length = 0;
    for (const waiter of this.#acceptWaiters.splice(0)) waiter.reject(reason);
    this.#backlog.length = 0;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream[streamFrames].sessionClosed(streamError);
  }

  #register(id: number, origin: StreamOrigin): YamuxStream {
    const stream = new YamuxStream(this.#link, id, origin);
    this.#streams.set(id, stream);
    return stream;
  }

  #sendSyn(stream: YamuxStream): void {
    const id = stream.id;
    let timer: NodeJS.Timeout | undefined;
    if (this.#openTimeoutMs > 0) {
      // As hashicorp/yamux: a peer that never acknowledges a stream is considered dead.
      timer = unrefTimeout(this.#openTimeoutMs, () => {
        this.#session.fail(
          new PluginError(
            "UNAVAILABLE",
            `the yamux peer did not acknowledge stream ${id} within ${this.#openTimeoutMs} ms`,
          ),
        );
      });
    }
    this.#inflight.set(id, timer);
    stream[streamFrames].establish();
  }
}
