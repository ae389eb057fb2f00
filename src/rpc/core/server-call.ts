import type { DescMethod } from "@bufbuild/protobuf";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { currentCall } from "./call-context.ts";
import type { Encoded } from "./codec.ts";
import { encodeMessage } from "./codec.ts";
import { startDeadlineTimer } from "./deadline.ts";
import { Inbox } from "./inbox.ts";
import { decodeProto } from "./proto-decode.ts";
import type { HandlerBroker, HandlerContext } from "./types.ts";

/** A handler of any call kind, as the router holds it. */
export type AnyHandler = (input: unknown, context: HandlerContext) => unknown;

/** A registered method and its handler. */
export interface Route {
  readonly method: DescMethod;
  readonly handler: AnyHandler;
}

/** What a call is opened with, as a wire read it from its call's head. */
export interface CallHead {
  readonly path: string;
  readonly timeoutMs: number | undefined;
  /** Request metadata, lower-case keys, plus `:path`. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a served call needs from the server it runs on (the router). */
export interface CallHost {
  readonly limits: { readonly maxSendMessageBytes: number };
  readonly broker: HandlerBroker | undefined;
  /** The status a failed handler answers with. */
  failure(error: unknown, path: string): { status: number; message: string };
}

/**
 * A wire's half of one served call: how responses and the final status go out. The call core
 * decides what to send and when; the wire only frames it.
 */
export interface ServerStream {
  /** Sends one response of a streaming call; returns a promise when it must wait for the peer. */
  send(body: Encoded): Promise<void> | undefined;
  /** Sends the one response of a unary or client-streaming call, and status OK. */
  reply(body: Encoded): void;
  /** Ends the call with a status (OK ends a response stream). Called at most once. */
  finish(status: number, message: string): void;
  /** The handler took a request of `bytes`; `queued` are still waiting (flow control). */
  consumed?(bytes: number, queued: number): void;
  /** The call is over however it ended: release what the wire holds for it. */
  release?(): void;
}

/**
 * One call being served, whatever the wire: the handler's context (signal, deadline, headers,
 * broker), the deadline timer, dispatch on the call kind, the request stream the handler reads,
 * back-pressure on responses and the status it ends with. The wire reports what the peer sends
 * (`receive`, `endRequests`, `cancel`); `fail` ends the call with a status of the wire's own
 * (a size limit, a malformed frame).
 */
export class ServerCall {
  readonly #router: CallHost;
  readonly #route: Route;
  readonly #path: string;
  readonly #stream: ServerStream;
  readonly #onDone: () => void;
  readonly #controller = new AbortController();
  readonly #context: HandlerContext;
  readonly #streamsRequests: boolean;
  #stopTimer: (() => void) | undefined;
  /** The request stream of client- and bidi-streaming calls. */
  #inbox: Inbox<unknown> | undefined;
  /** The request of unary and server-streaming calls, until the requests end. */
  #request: Uint8Array | undefined;
  #requests = 0;
  #done = false;

  constructor(
    router: CallHost,
    route: Route,
    head: CallHead,
    stream: ServerStream,
    onDone: () => void,
  ) {
    this.#router = router;
    this.#route = route;
    this.#path = head.path;
    this.#stream = stream;
    this.#onDone = onDone;
    const timeoutMs = head.timeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.#context = {
      signal: this.#controller.signal,
      deadline,
      requestHeaders: head.headers,
      timeRemainingMs: () =>
        deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
      broker: router.broker,
    };
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () => {
        this.#abort(new PluginError("DEADLINE_EXCEEDED", "deadline exceeded"));
        this.fail(GrpcStatus.DEADLINE_EXCEEDED, "context deadline exceeded");
      });
    }
    const kind = route.method.methodKind;
    this.#streamsRequests = kind === "client_streaming" || kind === "bidi_streaming";
    if (this.#streamsRequests) {
      this.#inbox = new Inbox((bytes, queued) => stream.consumed?.(bytes, queued));
      this.#run(this.#inbox);
    }
  }

  get done(): boolean {
    return this.#done;
  }

  get kind(): Route["method"]["methodKind"] {
    return this.#route.method.methodKind;
  }

  /** Whether the handler reads a stream of requests (client- and bidi-streaming calls). */
  get streamsRequests(): boolean {
    return this.#streamsRequests;
  }

  /** Requests received and not yet read by the handler. */
  get queued(): number {
    return this.#inbox?.queued ?? 0;
  }

  /** A request message arrived. */
  receive(payload: Uint8Array): void {
    if (this.#done) return;
    if (!this.#streamsRequests) {
      if (this.#requests++ === 0) this.#request = payload;
      return;
    }
    let message: unknown;
    try {
      message = decodeProto(this.#route.method.input, payload);
    } catch (error) {
      this.fail(GrpcStatus.INTERNAL, `cannot decode request: ${String(error)}`);
      return;
    }
    this.#inbox!.push(message, payload.byteLength);
  }

  /** The peer sent its last request: a unary or server-streaming handler starts now. */
  endRequests(): void {
    if (this.#done) return;
    if (this.#streamsRequests) {
      this.#inbox!.end();
      return;
    }
    if (this.#requests !== 1) {
      this.fail(GrpcStatus.INTERNAL, `expected exactly one request message, got ${this.#requests}`);
      return;
    }
    let request: unknown;
    try {
      request = decodeProto(this.#route.method.input, this.#request!);
    } catch (error) {
      this.fail(GrpcStatus.INTERNAL, `cannot decode request: ${String(error)}`);
      return;
    }
    this.#request = undefined;
    this.#run(request);
  }

  /** Ends the call with a status; a handler still running sees its signal fire. */
  fail(status: number, message: string): void {
    if (this.#done) return;
    this.#end(new PluginError("CANCELLED", `the call ended: ${message}`));
    this.#stream.finish(status, message);
  }

  /** The caller went away (cancel, connection lost, server stopping): abort the handler, send nothing. */
  cancel(reason: string): void {
    if (this.#done) return;
    this.#end(new PluginError("CANCELLED", reason));
  }

  #run(input: unknown): void {
    currentCall
      .run(this.#context, () => this.#invoke(input))
      .catch((error: unknown) => {
        if (this.#done) return;
        const failure = this.#router.failure(error, this.#path);
        this.fail(failure.status, failure.message);
      });
  }

  async #invoke(input: unknown): Promise<void> {
    const { method, handler } = this.#route;
    const maxSend = this.#router.limits.maxSendMessageBytes;
    const result = handler(input, this.#context);
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      const response = await result;
      if (this.#done) return;
      const body = encodeMessage(method.output, response, maxSend);
      this.#end();
      this.#stream.reply(body);
      return;
    }
    for await (const message of result as AsyncIterable<unknown>) {
      if (this.#done) return;
      const wait = this.#stream.send(encodeMessage(method.output, message, maxSend));
      if (wait !== undefined) {
        await wait;
        if (this.#done) return;
      }
    }
    if (this.#done) return;
    this.#end();
    this.#stream.finish(GrpcStatus.OK, "");
  }

  #abort(reason: PluginError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Marks the call done; `abortReason` when it did not end by the handler's own completion. */
  #end(abortReason?: PluginError): void {
    this.#done = true;
    this.#stopTimer?.();
    this.#onDone();
    this.#stream.release?.();
    if (abortReason === undefined) {
      this.#inbox?.end();
      return;
    }
    this.#inbox?.fail(abortReason);
    this.#abort(abortReason);
  }
}
