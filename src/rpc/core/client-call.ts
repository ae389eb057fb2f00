import type { DescMethod } from "@bufbuild/protobuf";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { CallMessage } from "../../internal/diagnostics.ts";
import { callEndChannel } from "../../internal/diagnostics.ts";
import { abortError } from "./call-context.ts";
import type { Encoded } from "./codec.ts";
import { encodeMessage } from "./codec.ts";
import { startDeadlineTimer } from "./deadline.ts";
import { Inbox } from "./inbox.ts";
import { onEarlyStop } from "./pass-through.ts";
import { decodeProto } from "./proto-decode.ts";
import type { CallOptions } from "./types.ts";

/**
 * A wire's half of one client call: how requests go out and how the peer is told the call
 * ended here. Everything else (deadline, abort, decoding, the outcome) is the call core's.
 */
export interface ClientStream {
  /** Sends one request message; returns a promise when the wire must wait before the next. */
  write(body: Encoded): Promise<void> | undefined;
  /** No more requests (half-close). */
  end(): void;
  /** The call ended on this side (deadline, cancel, channel closed): tell the peer. */
  cancel(): void;
  /** The consumer took a response of `bytes`; `queued` are still waiting (flow control). */
  consumed?(bytes: number, queued: number): void;
  /** The call is over however it ended: release what the wire holds for it. */
  release?(): void;
}

/**
 * One call on a client channel, whatever the wire: it owns the deadline timer, the abort
 * listener, response decoding, the stream the consumer reads and the call's outcome. The wire
 * opens a `ClientStream` for it and reports what the peer sends: `receive`, `receiveStatus`, or
 * `lost` when the stream ended without a status.
 */
export class ClientCall {
  readonly method: DescMethod;
  readonly options: CallOptions | undefined;
  readonly #maxSend: number;
  readonly #onDone: (call: ClientCall) => void;
  #stream: ClientStream | undefined;
  #inbox: Inbox<unknown> | undefined;
  #response: unknown;
  #responses = 0;
  #error: PluginError | undefined;
  #done = false;
  #endedLocally = false;
  #stopTimer: (() => void) | undefined;
  #onAbort: (() => void) | undefined;
  readonly #startedAt = performance.now();
  readonly #finished: Promise<void>;
  #settle!: () => void;
  /** Set when `plugwire:call:*` has subscribers: the message published at the end. */
  diagnostics: CallMessage | undefined;
  /** The channel's key for this call among its open ones. @internal */
  channelKey = 0;

  constructor(
    method: DescMethod,
    options: CallOptions | undefined,
    maxSend: number,
    onDone: (call: ClientCall) => void,
  ) {
    this.method = method;
    this.options = options;
    this.#maxSend = maxSend;
    this.#onDone = onDone;
    this.#finished = new Promise((resolve) => {
      this.#settle = resolve;
    });
    const kind = method.methodKind;
    if (kind === "server_streaming" || kind === "bidi_streaming") {
      this.#inbox = new Inbox((bytes, queued) => this.#stream?.consumed?.(bytes, queued));
    }
  }

  /** Whether the call has ended (its outcome is known). */
  get done(): boolean {
    return this.#done;
  }

  /** The call was ended on this side (deadline, cancel, channel closed), not by the peer. */
  get endedLocally(): boolean {
    return this.#endedLocally;
  }

  /** Responses received and not yet read (streaming calls). */
  get queued(): number {
    return this.#inbox?.queued ?? 0;
  }

  /** Arms the deadline and the abort signal once the wire's stream is open. */
  attach(stream: ClientStream): void {
    this.#stream = stream;
    const signal = this.options?.signal;
    if (signal !== undefined) {
      const onAbort = () => this.fail(abortError(signal));
      this.#onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    const timeoutMs = this.options?.timeoutMs;
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () =>
        this.fail(new PluginError("DEADLINE_EXCEEDED", `deadline of ${timeoutMs} ms exceeded`)),
      );
    }
  }

  /** A response message arrived. */
  receive(payload: Uint8Array): void {
    if (this.#done) return;
    let message: unknown;
    try {
      message = decodeProto(this.method.output, payload);
    } catch (error) {
      this.fail(
        new PluginError("INTERNAL", `cannot decode response: ${String(error)}`, { cause: error }),
      );
      return;
    }
    if (this.#inbox !== undefined) this.#inbox.push(message, payload.byteLength);
    else if (this.#responses++ === 0) this.#response = message;
  }

  /** The peer's final status. */
  receiveStatus(code: number, message: string): void {
    if (this.#done) return;
    if (code !== GrpcStatus.OK) this.#error = PluginError.fromStatus(code, message);
    else if (this.#inbox === undefined && this.#responses !== 1) {
      this.#error = new PluginError(
        "UNIMPLEMENTED",
        `expected one response message, got ${this.#responses}`,
      );
    }
    this.#finish();
  }

  /**
   * The stream ended without a status (reset, connection lost). A deadline that has just passed
   * explains it better than `reason`: the peer's timer fired a moment before ours.
   */
  lost(reason: PluginError): void {
    if (this.#done) return;
    const timeoutMs = this.options?.timeoutMs;
    this.#error =
      timeoutMs !== undefined && performance.now() >= this.#startedAt + timeoutMs - 1
        ? new PluginError("DEADLINE_EXCEEDED", `deadline of ${timeoutMs} ms exceeded`)
        : reason;
    this.#finish();
  }

  /** Ends the call on this side with `error` (cancel, deadline, channel closed): the peer is told. */
  fail(error: PluginError): void {
    if (this.#done) return;
    this.#endedLocally = true;
    this.#error = error;
    this.#inbox?.fail(error);
    this.#stream?.cancel();
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const inbox = this.#inbox;
    if (inbox !== undefined && !inbox.ended) inbox.end(this.#error);
    this.#stopTimer?.();
    if (this.#onAbort !== undefined)
      this.options?.signal?.removeEventListener("abort", this.#onAbort);
    this.#stream?.release?.();
    this.#onDone(this);
    this.#settle();
    if (this.diagnostics !== undefined) {
      callEndChannel.publish({
        ...this.diagnostics,
        durationMs: performance.now() - this.#startedAt,
        error: this.#error,
      } satisfies CallMessage);
    }
  }

  /** The one response of a unary or client-streaming call. */
  async single(): Promise<unknown> {
    await this.#finished;
    if (this.#error !== undefined) throw this.#error;
    return this.#response;
  }

  /** The responses of a server- or bidi-streaming call; stopping early cancels the call. */
  responses(): AsyncIterable<unknown> {
    return onEarlyStop(this.#inbox![Symbol.asyncIterator](), () => {
      if (!this.#done)
        this.fail(new PluginError("CANCELLED", "the caller stopped reading the stream"));
    });
  }

  /** Sends every message of `requests`, waiting whenever the wire asks, then half-closes. */
  async pump(requests: AsyncIterable<unknown>): Promise<void> {
    const stream = this.#stream!;
    try {
      for await (const message of requests) {
        if (this.#done) return;
        const wait = stream.write(encodeMessage(this.method.input, message, this.#maxSend));
        if (wait !== undefined) {
          await wait;
          if (this.#done) return;
        }
      }
      if (!this.#done) stream.end();
    } catch (error) {
      this.fail(PluginError.from(error, "CANCELLED"));
    }
  }
}
