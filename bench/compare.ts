// Compares two `bench/run.ts` result files taken back to back on one machine, typically the tree
// before a change (a `git worktree` of the old commit) and the tree after it:
//
//   node bench/compare.ts before.json after.json [--worse-than 0.95]
//
// For each row both files have it prints after/before as a speed factor (> 1: the change is
// faster, whatever the unit), and whether the two runs' min–max ranges overlap. The Go host ↔ Go
// plugin rows run code no plugwire change touches, so their factors measure how far the machine
// itself drifted between the two runs: a plugwire row that is worse by less than that drift, with
// overlapping ranges, is not evidence of a regression. Exit status 1 when a row is worse than the
// threshold with ranges that do not overlap.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Row } from "./rows.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "worse-than": { type: "string", default: "0.95" } },
});
if (positionals.length !== 2) {
  console.error("usage: node bench/compare.ts before.json after.json [--worse-than 0.95]");
  process.exit(2);
}
const threshold = Number(values["worse-than"]);
const [before, after] = positionals.map(
  (file) => (JSON.parse(readFileSync(file, "utf8")) as { rows: Row[] }).rows,
) as [Row[], Row[]];

interface Compared {
  readonly id: string;
  readonly factor: number;
  readonly overlap: boolean;
  readonly before: Row;
  readonly after: Row;
}

/** after relative to before as a speed factor: > 1 is better for both "lower" and "higher" units. */
function compare(old: Row, now: Row): Compared {
  const factor =
    now.better === "lower"
      ? old.summary.median / now.summary.median
      : now.summary.median / old.summary.median;
  const overlap = !(now.summary.max < old.summary.min || now.summary.min > old.summary.max);
  return { id: now.id, factor, overlap, before: old, after: now };
}

const byId = new Map(before.map((row) => [row.id, row]));
const pairs = after.flatMap((row) => {
  const old = byId.get(row.id);
  return old === undefined || !Number.isFinite(old.summary.median) ? [] : [compare(old, row)];
});
const base = pairs.filter((p) => p.id.includes(".go-go."));
const ours = pairs.filter((p) => !p.id.includes(".go-go."));

const geomean = (list: readonly Compared[]) =>
  Math.exp(list.reduce((sum, p) => sum + Math.log(p.factor), 0) / Math.max(1, list.length));
const range = (row: Row) => `${row.summary.min.toPrecision(4)}–${row.summary.max.toPrecision(4)}`;

const worst = Math.min(...base.map((p) => p.factor));
const best = Math.max(...base.map((p) => p.factor));
console.log(
  `${ours.length} plugwire rows, geometric mean after/before ${geomean(ours).toFixed(3)}`,
);
console.log(
  `machine drift (Go ↔ Go rows, unchanged code): ${worst.toFixed(2)}–${best.toFixed(2)}, geometric mean ${geomean(base).toFixed(3)}`,
);
let regressions = 0;
for (const p of ours.filter((q) => q.factor < threshold).sort((a, b) => a.factor - b.factor)) {
  if (!p.overlap) regressions++;
  console.log(
    `  ${p.factor.toFixed(2)}  ${p.id.padEnd(34)} ${range(p.before)} → ${range(p.after)} ${p.after.unit}${p.overlap ? "  (ranges overlap)" : "  REGRESSION: ranges apart"}`,
  );
}
console.log(
  regressions === 0
    ? `no row worse than ${threshold} outside the runs' spread`
    : `${regressions} row(s) worse than ${threshold} with ranges apart`,
);
process.exit(regressions === 0 ? 0 : 1);
