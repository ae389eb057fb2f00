import type { Duplex } from "node:stream";
import { readFrom } from "../../internal/borrowed-reads.ts";
import type { Router } from "../core/router.ts";
import { TurnBudget } from "../fast/flow.ts";
import { H2Connection } from "./connection.ts";
import { clientPreface, H2Error } from "./frames.ts";
import { RejectedRequest } from "./rejected-request.ts";
import { readRequestHead } from "./request-head.ts";
import type { ServerStreamHost } from "./server-stream.ts";
import { H2ServerStream } from "./server-stream.ts";

/**
 * The windows a served connection grants: 1 MiB a stream, widened to 4 MiB (as the node:http2
 * server) for a stream whose messages are large, 16 MiB in all. A stream of small messages with
 * 4 MiB let a fast client queue a window's worth in the plugin (docs/performance.md §28).
 */
const streamWindowBytes = 1024 * 1024;
const largeMessageWindowBytes = 4 * 1024 * 1024;
const connectionWindowBytes = 16 * 1024 * 1024;
const maxHeaderListBytes = 1024 * 1024;

/**
 * The server end of one gRPC connection on plugwire's own HTTP/2 framing: checks the client's
 * preface, answers its SETTINGS, and hands each request stream to the router
 * (../core/router.ts), which serves it as it serves a call on any wire. A request that is not
 * gRPC gets 415 (rejected-request.ts); a malformed one a stream error.
 */
export class H2ServerConnection extends H2Connection implements ServerStreamHost {
  readonly turn = new TurnBudget();
  readonly #router: Router;
  /** Bytes of the client preface checked so far. */
  #prefaceBytes = 0;
  #goingAway = false;
  #draining: (() => void) | undefined;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  /** `initial`: bytes already read from the socket (by a listener that looked at them). */
  constructor(router: Router, socket: Duplex, initial?: Buffer) {
    super(socket, true, {
      streamWindowBytes,
      largeMessageWindowBytes,
      connectionWindowBytes,
      maxConcurrentStreams: router.limits.maxConcurrentCalls,
      maxHeaderListBytes,
    });
    this.#router = router;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.start();
    if (initial !== undefined && initial.byteLength > 0) this.#bytes(initial, false);
    readFrom(socket, (chunk, borrowed) => this.#bytes(chunk, borrowed));
  }

  /** Calls running on this connection. */
  get calls(): number {
    return this.streams.size;
  }

  /**
   * Tells the client to open no more calls (GOAWAY), lets running ones finish for `graceMs`,
   * then closes.
   */
  async close(graceMs: number): Promise<void> {
    if (this.socket.destroyed) return;
    if (!this.#goingAway) {
      this.#goingAway = true;
      this.goaway(H2Error.noError);
    }
    if (this.streams.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#draining = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.writer.flush();
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  protected acceptStream(id: number, fields: string[], endStream: boolean): void {
    if (this.#goingAway || this.streams.size >= this.#router.limits.maxConcurrentCalls) {
      this.resetStream(id, H2Error.refusedStream);
      return;
    }
    const head = readRequestHead(fields);
    if (head.t === "malformed") {
      this.resetStream(id, H2Error.protocol);
      return;
    }
    if (head.t === "other") {
      const rejected = new RejectedRequest(this, head.contentLength);
      const stream = this.addStream(id, rejected);
      rejected.bind(stream);
      if (endStream) {
        stream.remoteEnded = true;
        rejected.answer();
      }
      return;
    }
    const served = new H2ServerStream(
      this,
      this.#router.limits.maxReceiveMessageBytes,
      head.contentLength,
    );
    const stream = this.addStream(id, served);
    served.bind(stream);
    if (endStream) stream.remoteEnded = true;
    const call = this.#router.open(
      { path: head.path, timeoutMs: head.timeoutMs, headers: head.metadata },
      served,
    );
    if (call === undefined) return; // answered already (UNIMPLEMENTED)
    served.serve(call);
    if (endStream) served.onHeaders([], true);
  }

  protected onGoaway(): void {
    // The client will open nothing more; the calls it has running go on.
  }

  protected onClosed(): void {
    this.#resolveClosed();
  }

  override streamClosed(...args: Parameters<H2Connection["streamClosed"]>): void {
    super.streamClosed(...args);
    if (this.streams.size === 0) this.#draining?.();
  }

  /** Checks the client preface, then reads frames. */
  #bytes(chunk: Buffer, borrowed: boolean): void {
    let data = chunk;
    if (this.#prefaceBytes < clientPreface.byteLength) {
      const take = Math.min(data.byteLength, clientPreface.byteLength - this.#prefaceBytes);
      const at = this.#prefaceBytes;
      if (data.compare(clientPreface, at, at + take, 0, take) !== 0) {
        this.fail(H2Error.protocol, "the connection did not start with HTTP/2's client preface");
        return;
      }
      this.#prefaceBytes += take;
      data = data.subarray(take);
      if (data.byteLength === 0) return;
    }
    this.receive(data, borrowed);
  }
}
