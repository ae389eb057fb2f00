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
  // Node fires a timer longer than 2^31-1 ms at once (TimeoutOverflowWarning): one that long
  // (24.8 days) is as good as none.
  const timer =
    timeoutMs === undefined || timeoutMs > maxTimerMs
      ? undefined
      : setTimeout(() => controller.abort(onTimeout()), Math.max(0, timeoutMs));
  // Not unref'd: someone awaits the operation, and a wait with nothing else pending (a call
  // waiting for a restarting plugin) must keep the process alive until it settles. Disposing the
  // step clears the timer.
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

const maxTimerMs = 2 ** 31 - 1;

/** Milliseconds left before the step's deadline (0 once passed; `Infinity` without one). */
export function remainingMs(step: Step): number {
  return Math.max(0, step.deadline - performance.now());
}

/**
 * Throws the step's abort reason (a PluginError as given, anything else as CANCELLED) if it has
 * fired; `what` as for `stepError`.
 */
export function checkStep(step: Step, what?: string): void {
  if (step.signal.aborted) throw stepError(step.signal, what);
}

/**
 * The error a step fails with when its signal has fired: the reason itself when it is a
 * PluginError (the deadline's), CANCELLED with the caller's reason as cause otherwise. `what`
 * names what was cancelled in the message (`"start"` gives "start was cancelled: <reason>").
 */
export function stepError(signal: AbortSignal, what?: string): PluginError {
  const reason: unknown = signal.reason;
  if (reason instanceof PluginError) return reason;
  const why = reason instanceof Error ? `: ${reason.message}` : "";
  return new PluginError(
    "CANCELLED",
    what === undefined ? `cancelled${why}` : `${what} was cancelled${why}`,
    {
      cause: reason,
    },
  );
}

/**
 * Waits for `work` unless the step's signal fires first, then rejects with `stepError` (the work
 * itself cannot be stopped, e.g. a key generation: it runs to its end and its outcome is dropped).
 */
export function untilStep<T>(step: Step, work: Promise<T>, what?: string): Promise<T> {
  if (step.signal.aborted) {
    work.catch(() => {});
    return Promise.reject(stepError(step.signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(stepError(step.signal, what));
    };
    step.signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => step.signal.removeEventListener("abort", onAbort));
  });
}
