// The result model: every figure is a row with one sample per repetition, a summary, and its
// ratio to a baseline row measured in the same run; some rows carry an issue-4 target.
import type { Summary } from "./stats.ts";
import { summarize } from "./stats.ts";

export type Unit = "µs" | "calls/s" | "MiB/s" | "msg/s" | "ms" | "MiB";

/**
 * A target from issue 4. `ratio-max`/`ratio-min`: the row's median over its baseline's must stay
 * at most/at least `limit`; `plus-max`: the row may exceed its baseline by at most `limit` (in the
 * row's unit); `abs-max`: the row's median must stay below `limit`.
 */
export interface Target {
  readonly kind: "ratio-max" | "ratio-min" | "plus-max" | "abs-max";
  readonly limit: number;
  readonly text: string;
}

export interface RowSpec {
  readonly id: string;
  /** What is measured, e.g. "sequential unary 64 B · median". */
  readonly measurement: string;
  /** Who is measured, e.g. a pairing's label or "TS plugin". */
  readonly subject: string;
  readonly mtls?: "on" | "off" | undefined;
  readonly unit: Unit;
  readonly better: "lower" | "higher";
  /** Row id of the baseline the ratio is taken to (same run). */
  readonly baseline?: string | undefined;
  /** Short name of that baseline for the table. */
  readonly baselineLabel?: string | undefined;
  readonly target?: Target | undefined;
  /** Set when the figure cannot be measured yet (e.g. "pending broker"). */
  readonly pending?: string | undefined;
  /** Free text shown after the table. */
  readonly note?: string | undefined;
}

export interface Row extends RowSpec {
  readonly samples: number[];
  summary: Summary;
  ratio?: number | undefined;
  /** Undefined without a target, or while pending. */
  met?: boolean | undefined;
}

/** Collects samples in the order rows are first seen, so the table follows the run. */
export class Results {
  readonly #rows = new Map<string, Row>();
  /** Measurements that failed (the run goes on; the report lists them and exits non-zero). */
  readonly failures: string[] = [];

  /** Runs one measurement; a failure is recorded and logged instead of ending the run. */
  async attempt(
    what: string,
    log: (line: string) => void,
    body: () => Promise<void>,
  ): Promise<void> {
    try {
      await body();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.failures.push(`${what}: ${text.split("\n")[0]}`);
      log(`FAILED ${what}: ${text.slice(0, 2000)}`);
    }
  }

  /** Declares a row (idempotent) and returns it. */
  row(spec: RowSpec): Row {
    let row = this.#rows.get(spec.id);
    if (row === undefined) {
      row = { ...spec, samples: [], summary: summarize([]) };
      this.#rows.set(spec.id, row);
    }
    return row;
  }

  /** Adds one repetition's sample; a row declared pending stops being pending once measured. */
  add(spec: RowSpec, sample: number): void {
    const row = this.row(spec);
    if (spec.pending === undefined) (row as { pending?: string | undefined }).pending = undefined;
    row.samples.push(sample);
  }

  get(id: string): Row | undefined {
    return this.#rows.get(id);
  }

  /** Summaries, ratios to baselines, and target verdicts. */
  finish(): Row[] {
    const rows = [...this.#rows.values()];
    for (const row of rows) row.summary = summarize(row.samples);
    for (const row of rows) {
      const base = row.baseline === undefined ? undefined : this.#rows.get(row.baseline);
      if (base !== undefined && row.pending === undefined) {
        row.ratio = row.summary.median / base.summary.median;
      }
      row.met = verdict(row, base);
    }
    return rows;
  }
}

function verdict(row: Row, base: Row | undefined): boolean | undefined {
  const target = row.target;
  if (target === undefined || row.pending !== undefined || row.summary.n === 0) return undefined;
  const value = row.summary.median;
  switch (target.kind) {
    case "ratio-max":
      return row.ratio !== undefined && row.ratio <= target.limit;
    case "ratio-min":
      return row.ratio !== undefined && row.ratio >= target.limit;
    case "plus-max":
      return base !== undefined && value - base.summary.median <= target.limit;
    case "abs-max":
      return value < target.limit;
  }
}
