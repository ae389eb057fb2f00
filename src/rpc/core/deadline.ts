import { PluginError } from "../../errors/plugin-error.ts";

/**
 * Deadlines, the same on every wire and both sides: a call's `timeoutMs` is checked before the
 * call starts, and timers of any length fire when they should (Node's own fire at once beyond
 * 2³¹−1 ms). How a wire carries the deadline is the wire's (`grpc-timeout`: ../grpc/timeout.ts).
 */

/** The longest delay Node's `setTimeout` honours (≈ 24.8 days); longer ones fire after 1 ms. */
export const maxTimerMs = 2_147_483_647;

/**
 * A call's `timeoutMs` as the channels use it: a non-negative number of milliseconds, or
 * undefined for no deadline (`Infinity` means none too). Anything else is CONFIG_INVALID,
 * thrown before the call starts.
 */
export function callTimeoutMs(value: unknown): number | undefined {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new PluginError(
      "CONFIG_INVALID",
      `Expected the \`timeoutMs\` call option to be a non-negative number of milliseconds (or Infinity for no deadline), got \`${shown}\` (${typeof value})`,
    );
  }
  return value;
}

/**
 * Calls `onExpire` once `timeoutMs` have passed, however long that is: beyond Node's maximum the
 * timer is re-armed in steps of at most `stepMs`. Returns the function that cancels it.
 */
export function startDeadlineTimer(
  timeoutMs: number,
  onExpire: () => void,
  stepMs = maxTimerMs,
): () => void {
  const due = performance.now() + timeoutMs;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = due - performance.now();
    timer = left > stepMs ? setTimeout(arm, stepMs) : setTimeout(onExpire, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}
