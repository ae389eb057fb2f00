// `npm run bench -- --quick` in CI: the harness must produce every figure of issue 4 (a number per
// row, or "pending broker" for the brokered stream until it is wired up). No timing is asserted.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { quickConfig } from "../../bench/config.ts";
import type { Row } from "../../bench/rows.ts";
import { repoRoot } from "../support/fixture.ts";

function expectedRowIds(): string[] {
  const ids: string[] = [];
  const modes = ["plain", "mtls"];
  const callKeys = [
    "unary.p50",
    "unary.p99",
    ...quickConfig.inFlight.map((n) => `inflight${n}`),
    "large1mib",
    "large16mib",
    "stream",
  ];
  for (const key of callKeys)
    for (const pairing of ["go-go", "ts-ts", "ts-ts-grpc", "ts-go", "go-ts"])
      for (const mode of modes) ids.push(`call.${key}.${pairing}.${mode}`);
  // What Node has without plugwire, beside the fast wire's sequential and 64-in-flight rows.
  for (const key of ["unary.p50", "inflight64"])
    for (const kind of ["fork", "port"]) ids.push(`call.${key}.ipc-${kind}.plain`);
  ids.push("bytes.raw-ceiling", "bytes.raw-ceiling.rss");
  ids.push("bytes.raw-tls-ceiling", "bytes.raw-tls-ceiling.rss");
  for (const mode of modes) ids.push(`bytes.brokered.${mode}`, `bytes.brokered.${mode}.rss`);
  ids.push("start.node-e0");
  for (const host of ["ts", "go"])
    for (const plugin of ["ts", "go"])
      for (const mode of modes) ids.push(`start.${host}-host.${plugin}-plugin.${mode}`);
  ids.push("memory.bare-node");
  for (const plugin of ["ts", "go"])
    for (const mode of modes) ids.push(`memory.idle.${plugin}-plugin.${mode}`);
  ids.push("memory.host-per-plugin.ts-plugin", "memory.host-per-plugin.go-plugin");
  for (const n of quickConfig.scaleCounts)
    for (const plugin of ["ts", "go"]) ids.push(`scale.${n}.${plugin}-plugin`);
  // go-plugin's net/rpc protocol (issue 12).
  for (const pairing of ["go-go", "ts-go", "go-ts", "ts-ts"])
    ids.push(`netrpc.seq.p50.${pairing}`, `netrpc.inflight64.${pairing}`);
  return ids;
}

describe("benchmark harness (--quick)", () => {
  it("produces every row of the table and the JSON", { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-bench-test-"));
    try {
      const out = join(dir, "quick.json");
      // The Go harness is built by `npm test` (scripts/test.ts) before the suites run.
      const run = spawnSync(
        process.execPath,
        [join(repoRoot, "bench/run.ts"), "--quick", "--no-build", "--out", out],
        { cwd: repoRoot, encoding: "utf8", timeout: 590_000 },
      );
      assert.equal(
        run.status,
        0,
        `bench --quick failed:\n${run.stdout}\n${run.stderr.slice(-6000)}`,
      );
      assert.match(run.stdout, /targets: \d+ met, \d+ missed, \d+ pending/);

      const report = JSON.parse(readFileSync(out, "utf8")) as {
        meta: { mode: string };
        rows: Row[];
      };
      assert.equal(report.meta.mode, "quick");
      const rows = new Map(report.rows.map((row) => [row.id, row]));
      const missing = expectedRowIds().filter((id) => !rows.has(id));
      assert.deepEqual(missing, [], "rows missing from the report");
      for (const row of report.rows) {
        if (row.pending !== undefined) {
          assert.ok(row.id.startsWith("bytes.brokered."), `${row.id} is pending: ${row.pending}`);
          continue;
        }
        assert.ok(row.samples.length >= 1, `${row.id} has no sample`);
        assert.ok(
          row.samples.every((x) => typeof x === "number" && Number.isFinite(x)),
          `${row.id} has a non-numeric sample: ${JSON.stringify(row.samples)}`,
        );
        assert.ok(Number.isFinite(row.summary.median), `${row.id} has no median`);
        assert.equal(run.stdout.includes(row.subject), true, `${row.id} is not in the table`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
