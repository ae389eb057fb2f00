import { PluginError } from "../../errors/plugin-error.ts";

/**
 * Deadlines, the same on both wires and both sides: a call's `timeoutMs` is checked before the
 * call starts, timers of any length fire when they should (Node's own fire at once beyond
 * 2³¹−1 ms), and `grpc-timeout` is written and read as the gRPC spec says.
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

/** grpc-timeout's units, finest first: a value in the unit is `ms * multiply / divide`. */
const units: ReadonlyArray<readonly [unit: string, multiply: number, divide: number]> = [
  ["n", 1e6, 1],
  ["u", 1e3, 1],
  ["m", 1, 1],
  ["S", 1, 1e3],
  ["M", 1, 6e4],
  ["H", 1, 3.6e6],
];
const maxTimeoutValue = 99_999_999;

/**
 * The `grpc-timeout` header for `timeoutMs`: at most 8 digits and the finest unit they fit in,
 * rounded up (as grpc-go writes it), capped at 99999999H (≈ 11,400 years).
 */
export function formatGrpcTimeout(timeoutMs: number): string {
  const ms = Math.max(0, timeoutMs);
  for (const [unit, multiply, divide] of units) {
    // Integer factors keep whole values exact (2147483647 ms → 2147484S, 5 ms → 5000000n).
    const value = Math.ceil((ms * multiply) / divide);
    if (value <= maxTimeoutValue) return `${value}${unit}`;
  }
  return `${maxTimeoutValue}H`;
}

const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** Milliseconds from a `grpc-timeout` value (every unit), or undefined if it is malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * unitMs[match[2]!]!;
}
