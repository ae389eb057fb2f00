// `npm run bench`: builds the Go harness, runs every figure of issue 4 with interleaved
// repetitions, prints a table (median, spread, ratio to the same run's baseline, target) and
// writes bench/results/latest.json.
//
//   node bench/run.ts [--quick] [--no-build] [--only calls,bytes,start,memory,scale,netrpc] [--out FILE]
//
// --quick: tiny counts and one repetition; checks the harness produces every figure (CI asserts
// no timing). The transport comparison (grpc-js vs plugwire vs node:http2) is a separate command:
// node bench/transport/run.ts.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildGo } from "../scripts/prepare-interop.ts";
import { runCalls } from "./calls.ts";
import { fullConfig, quickConfig } from "./config.ts";
import { runMemory } from "./memory.ts";
import { runNetRpc } from "./netrpc.ts";
import { repoRoot } from "./pairings.ts";
import { formatTable, targetSummary, writeJson } from "./report.ts";
import { Results } from "./rows.ts";
import { runScale } from "./scale.ts";
import { runStart } from "./start.ts";
import { runByteStream } from "./stream.ts";

const sections = {
  calls: runCalls,
  bytes: runByteStream,
  start: runStart,
  memory: runMemory,
  scale: runScale,
  netrpc: runNetRpc,
} as const;
type Section = keyof typeof sections;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string", default: join(repoRoot, "bench/results/latest.json") },
  },
});

const config = values.quick ? quickConfig : fullConfig;
const selected = (values.only?.split(",") ?? Object.keys(sections)) as Section[];
for (const name of selected) {
  if (!(name in sections)) throw new Error(`unknown section ${name} (${Object.keys(sections)})`);
}
const log = (line: string) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s`;

if (!values["no-build"]) {
  log("building the Go harness (scripts/prepare-interop.ts buildGo)");
  buildGo();
}

const loadBefore = loadavg();
const results = new Results();
for (const name of selected) await sections[name](config, results, log);
const rows = results.finish();

const goVersion = (() => {
  try {
    return execFileSync("go", ["version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();
const meta = {
  date: new Date().toISOString(),
  command: `node bench/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  mode: config.quick ? "quick" : "full",
  sections: selected,
  config,
  durationS: (Date.now() - t0) / 1000,
  node: process.version,
  go: goVersion,
  platform: `${process.platform} ${process.arch}`,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverage: { before: loadBefore, after: loadavg() },
  spread: "±half of (max − min) over the repetitions, relative to the median",
};
writeJson(values.out, { meta, rows, failures: results.failures });

const missing = rows.filter((row) => row.pending === undefined && row.summary.n === 0);
process.stdout.write(
  `\nplugwire benchmarks (${meta.mode}, ${config.reps} interleaved repetitions; ${meta.cpus}; node ${meta.node}; ${goVersion})\n` +
    `median of the repetitions, spread = ±half their range; ratios from this run\n\n` +
    `${formatTable(rows)}\n\n${targetSummary(rows)}\n` +
    `\nwritten ${values.out} in ${meta.durationS.toFixed(0)} s\n`,
);
if (results.failures.length > 0) {
  process.stdout.write(
    `\nfailed measurements:\n${results.failures.map((f) => `  ${f}`).join("\n")}\n`,
  );
  process.exitCode = 1;
}
if (missing.length > 0) {
  process.stderr.write(`no figure for: ${missing.map((row) => row.id).join(", ")}\n`);
  process.exitCode = 1;
}
