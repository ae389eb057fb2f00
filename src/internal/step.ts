import { PluginError } from "../errors/plugin-error.ts";

/**
 * What every step of a lifecycle (start, attach, serve, kill) takes: one signal and one
 * deadline for the whole operation, so a step cannot outlive the operation it belongs to.
 */
export interface Step {
  /** Fires when the caller gives up or the deadline passes. */
  readonly signal: AbortSignal;
  /** Absolute deadline, `performance.now()` milliseconds; `Infinity` for none. */
  readonly deadline: number;
}

/**
 * A step context for an operation bounded by `timeoutMs` (undefined for none) and the caller's
 * `signal`. Its signal fires with `onTimeout()` at the deadline and with the caller's reason on
 * abort. `dispose()` releases the timer.
 */
export function startStep(
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  onTimeout: () => PluginError,
): Step & Disposable {
  const controller = new AbortController();
  const deadline =
    timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(onTimeout()), Math.max(0, timeoutMs));
  timer?.unref();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    deadline,
    [Symbol.dispose]() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** Milliseconds left before the step's deadline (0 once passed; `Infinity` without one). */
export function remainingMs(step: Step): number {
  return Math.max(0, step.deadline - performance.now());
}

/** Throws the step's abort reason (a PluginError as given, anything else as CANCELLED) if it has fired. */
export function checkStep(step: Step): void {
  if (step.signal.aborted) throw stepError(step.signal);
}

/** The error a step fails with when its signal has fired. */
export function stepError(signal: AbortSignal): PluginError {
  const reason: unknown = signal.reason;
  if (reason instanceof PluginError) return reason;
  return new PluginError(
    "CANCELLED",
    reason instanceof Error ? `cancelled: ${reason.message}` : "cancelled",
    { cause: reason },
  );
}
