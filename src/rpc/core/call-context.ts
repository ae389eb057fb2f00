import { AsyncLocalStorage } from "node:async_hooks";
import { PluginError } from "../../errors/plugin-error.ts";
import { callTimeoutMs } from "./deadline.ts";
import type { CallOptions, HandlerContext } from "./types.ts";

/**
 * The handler context of the call being served, for calls a handler makes in turn (a callback
 * into the host through the broker, a call to another plugin): they inherit its cancellation and
 * deadline without the handler passing them, as a Go handler passes its ctx.
 */
export const currentCall = new AsyncLocalStorage<HandlerContext>();

/**
 * Call options merged with those inherited from the handler being served, if any, with
 * `timeoutMs` checked (CONFIG_INVALID before the call starts) and `Infinity` made undefined.
 */
export function inheritCallOptions(options: CallOptions | undefined): CallOptions | undefined {
  const own = callTimeoutMs(options?.timeoutMs);
  const parent = currentCall.getStore();
  if (parent === undefined)
    return own === options?.timeoutMs ? options : { ...options, timeoutMs: own };
  const signal =
    options?.signal === undefined
      ? parent.signal
      : AbortSignal.any([options.signal, parent.signal]);
  const remaining = parent.timeRemainingMs();
  const timeoutMs =
    remaining === undefined ? own : own === undefined ? remaining : Math.min(own, remaining);
  return { ...options, signal, timeoutMs };
}

/** The error a call fails with when its signal aborts: the abort reason, as a CANCELLED PluginError. */
export function abortError(signal: AbortSignal): PluginError {
  const reason: unknown = signal.reason;
  if (reason instanceof PluginError) return reason;
  const text =
    reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  return new PluginError(
    "CANCELLED",
    text === "" ? "the call was cancelled" : `the call was cancelled: ${text}`,
    { cause: reason },
  );
}
