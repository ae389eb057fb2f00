// Small statistics helpers shared by every bench module.

/** Quantile `q` (0..1) of already sorted values, by linear interpolation between ranks. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (position - low);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** How one figure varied over its repetitions. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Repetitions summarised. */
  readonly n: number;
  /** (max − min) / median, in percent: the spread shown next to every figure. */
  readonly spreadPct: number;
}

export function summarize(samples: readonly number[]): Summary {
  const finite = samples.filter((x) => Number.isFinite(x));
  if (finite.length === 0) {
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0, spreadPct: Number.NaN };
  }
  const sorted = [...finite].sort((a, b) => a - b);
  const med = quantileSorted(sorted, 0.5);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  return {
    median: med,
    min,
    max,
    n: sorted.length,
    spreadPct: med === 0 ? 0 : ((max - min) / Math.abs(med)) * 100,
  };
}

/** Per-call latency samples (ns as bigint differences converted to µs) summarised like Go's harness. */
export function latencySummaryUs(samplesUs: number[]): {
  medianUs: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
  maxUs: number;
} {
  const sorted = samplesUs.sort((a, b) => a - b);
  // Same rank rule as goplugin-host's latencyStats: index floor(q × (n − 1)).
  const pick = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    medianUs: pick(0.5),
    p99Us: pick(0.99),
    meanUs: mean,
    minUs: sorted[0]!,
    maxUs: sorted.at(-1)!,
  };
}

/** Elapsed ms since a `process.hrtime.bigint()` mark. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
