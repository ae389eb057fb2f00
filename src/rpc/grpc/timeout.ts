/** `grpc-timeout` written and read as the gRPC spec (PROTOCOL-HTTP2, "Timeout") says. */

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
