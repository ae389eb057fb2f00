import type { DescMethod } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { callEndChannel, callStartChannel } from "../../internal/diagnostics.ts";
import { IdTable } from "../../internal/id-table.ts";
import { abortError, inheritCallOptions } from "./call-context.ts";
import type { ClientStream } from "./client-call.ts";
import { ClientCall } from "./client-call.ts";
import type { Encoded } from "./codec.ts";
import { encodeMessage } from "./codec.ts";
import { defaultMaxMessageBytes } from "./limits.ts";
import { deferred } from "./pass-through.ts";
import type { CallOptions, Channel } from "./types.ts";

/**
 * What a framing gives the call core on the client side: a way to open one call's stream on its
 * connection, and to close the connection. gRPC (../grpc/channel.ts) and the fast wire
 * (../fast/channel.ts) are such framings; everything else a call does is `CallChannel`'s.
 */
export interface ClientWire {
  /** `grpc`, `fast`: the name diagnostics report. */
  readonly name: string;
  /**
   * Opens the stream of `call`. `first` is the encoded request of unary and server-streaming
   * calls, sent together with the end of the requests. Throws a PluginError when the call cannot
   * be started (no connection can even be attempted).
   */
  open(call: ClientCall, first: Encoded | undefined): ClientStream;
  /** Closes the connection(s); the calls on them have already been failed. */
  close(): void;
}

/** Limits a client channel applies to every call. */
export interface ChannelLimits {
  /** Largest message this side sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
}

/**
 * A `Channel` on a wire: one implementation of the four call kinds, deadlines, cancellation,
 * inherited handler context and the channel's close, for every framing.
 */
export class CallChannel implements Channel {
  readonly #wire: ClientWire;
  readonly #maxSend: number;
  /** The calls not yet done, by `ClientCall.channelKey` (an IdTable, not a Set: §27). */
  readonly #calls = new IdTable<ClientCall>();
  readonly #onDone = (call: ClientCall) => this.#calls.delete(call.channelKey);
  #closed: PluginError | undefined;

  constructor(wire: ClientWire, limits: ChannelLimits = {}) {
    this.#wire = wire;
    this.#maxSend = limits.maxSendMessageBytes ?? defaultMaxMessageBytes;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Fails pending and future calls with `reason` and closes the connection. Idempotent. */
  close(reason = new PluginError("CLIENT_CLOSED", "the channel was closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const call of this.#calls.values()) call.fail(reason);
    this.#calls.clear();
    this.#wire.close();
  }

  async unary(method: DescMethod, request: unknown, options?: CallOptions): Promise<unknown> {
    return this.#start(method, options, request).single();
  }

  /** Starts the call when its responses are first read, as a generator's body would. */
  serverStream(
    method: DescMethod,
    request: unknown,
    options?: CallOptions,
  ): AsyncIterable<unknown> {
    return deferred(() => this.#start(method, options, request).responses());
  }

  async clientStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): Promise<unknown> {
    const call = this.#start(method, options, noRequest);
    void call.pump(requests);
    return call.single();
  }

  /** Starts the call when its responses are first read, as a generator's body would. */
  bidiStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): AsyncIterable<unknown> {
    return deferred(() => {
      const call = this.#start(method, options, noRequest);
      void call.pump(requests);
      return call.responses();
    });
  }

  /**
   * Starts a call: checks the channel, the options (a bad `timeoutMs` is CONFIG_INVALID) and the
   * signal, encodes the request before anything is opened (an oversize request opens no stream),
   * then opens the wire's stream.
   */
  #start(method: DescMethod, own: CallOptions | undefined, request: unknown): ClientCall {
    if (this.#closed !== undefined) throw this.#closed;
    const options = inheritCallOptions(own);
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal);
    const first =
      request === noRequest ? undefined : encodeMessage(method.input, request, this.#maxSend);
    const call = new ClientCall(method, options, this.#maxSend, this.#onDone);
    if (callStartChannel.hasSubscribers) {
      call.diagnostics = {
        path: `/${method.parent.typeName}/${method.name}`,
        kind: method.methodKind,
        wire: this.#wire.name,
      };
      callStartChannel.publish(call.diagnostics);
    }
    let stream: ClientStream;
    try {
      stream = this.#wire.open(call, first);
    } catch (error) {
      const failure = PluginError.from(error, "UNAVAILABLE");
      if (call.diagnostics !== undefined)
        callEndChannel.publish({ ...call.diagnostics, durationMs: 0, error: failure });
      throw failure;
    }
    call.channelKey = this.#calls.insert(call);
    call.attach(stream);
    return call;
  }
}

/** Marks the calls whose requests are a stream (nothing to encode up front). */
const noRequest: unique symbol = Symbol("no request");
