// bench/compare.ts judges a change by two result files: a row worse than the threshold whose
// ranges do not overlap with the old run's fails it; one within the spread does not.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot } from "../support/fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "plugwire-compare-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(id: string, better: "lower" | "higher", samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = (sorted[1]! + sorted[2]!) / 2;
  return {
    id,
    better,
    unit: better === "lower" ? "µs" : "calls/s",
    samples,
    summary: { median, min: sorted[0], max: sorted[3], n: 4, spreadPct: 0 },
  };
}

function compare(before: unknown[], now: unknown[]) {
  const a = join(dir, "a.json");
  const b = join(dir, "b.json");
  writeFileSync(a, JSON.stringify({ rows: before }));
  writeFileSync(b, JSON.stringify({ rows: now }));
  return spawnSync(process.execPath, ["bench/compare.ts", a, b], {
    cwd: repoRoot,
    encoding: "utf8",
  });
}

describe("bench/compare.ts", () => {
  const base = row("call.unary.p50.go-go.plain", "lower", [200, 205, 210, 215]);
  it("passes a row that is worse only within the runs' spread", () => {
    const result = compare(
      [base, row("call.unary.p50.ts-ts.plain", "lower", [100, 110, 120, 130])],
      [base, row("call.unary.p50.ts-ts.plain", "lower", [105, 120, 125, 140])],
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /ranges overlap/);
  });
  it("fails a row that is worse with ranges apart, in either unit direction", () => {
    const result = compare(
      [base, row("call.inflight64.ts-ts.plain", "higher", [900, 950, 1000, 1050])],
      [base, row("call.inflight64.ts-ts.plain", "higher", [500, 510, 520, 530])],
    );
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stdout, /0\.53 .*REGRESSION/);
  });
});
