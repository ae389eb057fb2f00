import type { DescMethod } from "@bufbuild/protobuf";
import { mapIteratorErrors } from "./pass-through.ts";
import type { CallOptions, Channel } from "./types.ts";

/**
 * One call as an interceptor sees it. `input` is the request message of unary and
 * server-streaming calls and an `AsyncIterable` of them for client- and bidi-streaming calls.
 */
export interface CallRequest {
  readonly method: DescMethod;
  readonly input: unknown;
  readonly options: CallOptions | undefined;
}

/**
 * The rest of the chain: a promise of the response for unary and client-streaming calls, an
 * `AsyncIterable` of responses for server- and bidi-streaming calls (see `streamsResponses`).
 */
export type CallNext = (request: CallRequest) => Promise<unknown> | AsyncIterable<unknown>;

/**
 * Wraps every call a channel makes, whatever its kind and whatever the wire (as connect-es's
 * interceptors do): `(next) => (request) => next(request)` passes calls through unchanged.
 */
export type Interceptor = (next: CallNext) => CallNext;

/** Whether calls of `method` answer with a stream (server- and bidi-streaming). */
export function streamsResponses(method: DescMethod): boolean {
  return method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
}

/** A channel's calls as one function: the one place that dispatches on the call kind. */
export function callThrough(channel: Channel): CallNext {
  return ({ method, input, options }) => {
    switch (method.methodKind) {
      case "unary":
        return channel.unary(method, input, options);
      case "server_streaming":
        return channel.serverStream(method, input, options);
      case "client_streaming":
        return channel.clientStream(method, input as AsyncIterable<unknown>, options);
      case "bidi_streaming":
        return channel.bidiStream(method, input as AsyncIterable<unknown>, options);
    }
  };
}

/**
 * A channel whose calls go through `interceptors` (the first is the outermost) before reaching
 * `channel`. Closing it closes `channel`.
 */
export function intercept(channel: Channel, ...interceptors: readonly Interceptor[]): Channel {
  let next = callThrough(channel);
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return channelOf(next, channel);
}

/** A `Channel` over a call function; `closed` and `close` are `owner`'s. */
export function channelOf(call: CallNext, owner: Pick<Channel, "closed" | "close">): Channel {
  return {
    get closed() {
      return owner.closed;
    },
    close: (reason) => owner.close(reason),
    unary: (method, input, options) => call({ method, input, options }) as Promise<unknown>,
    serverStream: (method, input, options) =>
      call({ method, input, options }) as AsyncIterable<unknown>,
    clientStream: (method, input, options) => call({ method, input, options }) as Promise<unknown>,
    bidiStream: (method, input, options) =>
      call({ method, input, options }) as AsyncIterable<unknown>,
  };
}

/**
 * An interceptor that replaces every error a call fails with by `map(error, request)`, on
 * promises and streams alike (a stream's error surfaces where its consumer reads it).
 */
export function mapErrors(
  map: (error: unknown, request: CallRequest) => unknown | Promise<unknown>,
): Interceptor {
  return (next) => (request) => {
    if (!streamsResponses(request.method)) {
      return (next(request) as Promise<unknown>).catch(async (error: unknown) => {
        throw await map(error, request);
      });
    }
    return mapIteratorErrors(next(request) as AsyncIterable<unknown>, (error) =>
      map(error, request),
    );
  };
}
