import type { CallNext, CallRequest } from "../rpc/core/interceptors.ts";
import { channelOf, streamsResponses } from "../rpc/core/interceptors.ts";
import { deferred } from "../rpc/core/pass-through.ts";
import type { CallOptions, Channel } from "../rpc/core/types.ts";
import type { Connection } from "./connection.ts";

/** Waits until the plugin runs (bounded by `waitMs`) and returns its connection. */
export type ReadyFn = (waitMs: number | undefined, signal?: AbortSignal) => Promise<Connection>;

type Method = (input: unknown, options?: CallOptions) => Promise<unknown> | AsyncIterable<unknown>;

/**
 * The channel under a supervised plugin's typed clients: each call looks up the plugin's current
 * connection, so clients keep working across restarts. `owner` says whether the plugin is closed.
 */
export function supervisedChannel(
  ready: ReadyFn,
  owner: Pick<Channel, "closed" | "close">,
): Channel {
  return channelOf(supervisedCall(ready), owner);
}

/**
 * Every call, whatever its kind: wait for the running connection, then make the call on it. The
 * wait counts against the call's own `timeoutMs`: the plugin gets what is left. A stream waits
 * when it is first read, as a stream from a plugin client starts then too.
 */
export function supervisedCall(ready: ReadyFn): CallNext {
  const onConnection = async (request: CallRequest) => {
    const started = performance.now();
    const { options } = request;
    const connection = await ready(options?.timeoutMs, options?.signal);
    return forward(connection, { ...request, options: timeLeft(options, started) });
  };
  return (request) => {
    if (!streamsResponses(request.method)) return onConnection(request);
    return deferred(() => onConnection(request) as Promise<AsyncIterable<unknown>>);
  };
}

/**
 * Makes the call on the connection's own client for the service, so it fails as calls on that
 * connection do (PLUGIN_EXITED when the plugin dies under it).
 */
function forward(connection: Connection, { method, input, options }: CallRequest) {
  const client = connection.client(method.parent) as unknown as Record<string, Method>;
  return client[method.localName]!(input, options);
}

/** The call's options with the time spent waiting for the plugin taken off its `timeoutMs`. */
export function timeLeft<O extends CallOptions>(
  options: O | undefined,
  started: number,
): O | undefined {
  if (options?.timeoutMs === undefined) return options;
  const waitedMs = Math.round(performance.now() - started);
  return { ...options, timeoutMs: Math.max(1, options.timeoutMs - waitedMs) };
}
