// gRPC framings against a Go peer, in one run with interleaved repetitions (docs/transport.md,
// "gRPC without node:http2"): node:http2 against plugwire's own HTTP/2 framing (src/rpc/h2),
// selected per process with PLUGWIRE_GRPC_FRAMING=h2, with Go ↔ Go beside them.
//   TS host → Go plugin: bench/ts-host.ts (the framing is the client's) against goplugin-plugin
//   Go host → TS plugin: goplugin-host against the fixture plugin (the framing is the server's)
// Figures: unary 64 B sequential (median), 64 calls in flight, 1 MiB and 16 MiB messages, bidi
// stream of 64 B messages. Each repetition runs every subject of a figure back to back, in a
// rotating order, so a ratio compares figures taken seconds apart.
//
//   node bench/transport/go-peer.ts [--quick] [--reps N] [--mtls] [--direction client|server|both]
//                                   [--out FILE]
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildGo } from "../../scripts/prepare-interop.ts";
import type { Side } from "../pairings.ts";
import { goBin, helperNodeFlags, pluginCommand, repoRoot, tsHostScript } from "../pairings.ts";
import { num, runJson } from "../proc.ts";
import { formatTable, writeJson } from "../report.ts";
import type { RowSpec, Unit } from "../rows.ts";
import { Results } from "../rows.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    mtls: { type: "boolean", default: false },
    direction: { type: "string", default: "both" },
    "no-build": { type: "boolean", default: false },
    out: { type: "string", default: join(repoRoot, "bench/results/go-peer.json") },
  },
});
const quick = values.quick;
const reps = Number(values.reps ?? (quick ? 1 : 4));
const MiB = 1024 * 1024;

interface Figure {
  readonly key: string;
  readonly measurement: string;
  readonly scenario: string;
  readonly flags: readonly string[];
  readonly field: string;
  readonly unit: Unit;
  readonly better: "lower" | "higher";
}

const warmup = quick ? "10" : "1000";
const figures: readonly Figure[] = [
  {
    key: "p50",
    measurement: "unary 64 B sequential · median",
    scenario: "bench-unary",
    flags: ["-n", quick ? "50" : "2000", "-size", "64", "-warmup", warmup],
    field: "medianUs",
    unit: "µs",
    better: "lower",
  },
  {
    key: "tp64",
    measurement: "throughput 64 B · 64 in flight",
    scenario: "bench-throughput",
    flags: ["-concurrency", "64", "-duration-ms", quick ? "100" : "1000", "-warmup", warmup],
    field: "callsPerSec",
    unit: "calls/s",
    better: "higher",
  },
  {
    key: "large1",
    measurement: "unary 1 MiB messages",
    scenario: "bench-large",
    flags: ["-n", quick ? "2" : "24", "-size", String(MiB)],
    field: "mibPerSec",
    unit: "MiB/s",
    better: "higher",
  },
  {
    key: "large16",
    measurement: "unary 16 MiB messages",
    scenario: "bench-large",
    flags: ["-n", quick ? "1" : "6", "-size", String(16 * MiB)],
    field: "mibPerSec",
    unit: "MiB/s",
    better: "higher",
  },
  {
    key: "stream",
    measurement: "bidi stream 64 B messages",
    scenario: "bench-stream",
    flags: ["-n", quick ? "200" : "10000", "-size", "64", "-warmup", warmup],
    field: "messagesPerSec",
    unit: "msg/s",
    better: "higher",
  },
];

/** One host/plugin pairing under one framing. */
interface Subject {
  readonly id: string;
  readonly label: string;
  readonly host: Side;
  readonly plugin: Side;
  readonly framing: "node-http2" | "h2" | undefined;
  /** The node:http2 subject this one is compared with. */
  readonly baseline: string;
}

const directions = values.direction === "both" ? ["client", "server"] : [values.direction];
const subjects: Subject[] = [];
for (const direction of directions) {
  const [host, plugin]: [Side, Side] = direction === "client" ? ["ts", "go"] : ["go", "ts"];
  const pair = direction === "client" ? "TS host → Go plugin" : "Go host → TS plugin";
  const base = `${host}-${plugin}.node-http2`;
  subjects.push(
    { id: base, label: `${pair}, node:http2`, host, plugin, framing: "node-http2", baseline: base },
    {
      id: `${host}-${plugin}.h2`,
      label: `${pair}, plugwire h2`,
      host,
      plugin,
      framing: "h2",
      baseline: base,
    },
  );
}
subjects.push({
  id: "go-go",
  label: "Go host ↔ Go plugin",
  host: "go",
  plugin: "go",
  framing: undefined,
  baseline: "go-go",
});

const modes = values.mtls ? [false, true] : [false];

function rowSpec(figure: Figure, subject: Subject, mtls: boolean): RowSpec {
  const suffix = mtls ? "mtls" : "plain";
  const own = subject.id === subject.baseline;
  return {
    id: `h2.${figure.key}.${subject.id}.${suffix}`,
    measurement: figure.measurement,
    subject: subject.label,
    mtls: mtls ? "on" : "off",
    unit: figure.unit,
    better: figure.better,
    baseline: `h2.${figure.key}.${subject.baseline}.${suffix}`,
    baselineLabel: own ? "itself" : "node:http2",
  };
}

/** Runs one scenario in a fresh host process, with the framing chosen for the TS side. */
function run(subject: Subject, figure: Figure, mtls: boolean): Promise<Record<string, unknown>> {
  const plugin = pluginCommand(subject.plugin);
  const args = [
    "-cmd",
    plugin.cmd,
    "-scenario",
    figure.scenario,
    ...(mtls ? ["-automtls"] : []),
    // A TS host refuses the fast wire so a TS plugin would be called over gRPC too.
    ...(subject.host === "ts" ? ["-grpc"] : []),
    ...figure.flags,
    "--",
    ...plugin.args,
  ];
  // The TS process inherits the variable (a Go host passes its environment to the plugin).
  const env = { ...process.env, PLUGWIRE_GRPC_FRAMING: subject.framing ?? "" };
  if (subject.host === "go") return runJson(join(goBin, "goplugin-host"), args, { env });
  return runJson(process.execPath, [...helperNodeFlags, tsHostScript, ...args], { env });
}

if (!values["no-build"]) buildGo();
const results = new Results();
for (const figure of figures)
  for (const mtls of modes)
    for (const subject of subjects) results.row(rowSpec(figure, subject, mtls));
const log = (line: string) => process.stderr.write(`[go-peer] ${line}\n`);
for (let rep = 0; rep < reps; rep++) {
  for (const figure of figures) {
    log(`rep ${rep + 1}/${reps}: ${figure.measurement}`);
    for (const mtls of modes) {
      const order = subjects.map((_, i) => subjects[(i + rep) % subjects.length]!);
      for (const subject of order) {
        const spec = rowSpec(figure, subject, mtls);
        await results.attempt(`${spec.id} rep ${rep + 1}`, log, async () => {
          results.add(spec, num(await run(subject, figure, mtls), figure.field));
        });
      }
    }
  }
}

const rows = results.finish();
const meta = {
  date: new Date().toISOString(),
  command: `node bench/transport/go-peer.ts ${process.argv.slice(2).join(" ")}`.trim(),
  reps,
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
};
writeJson(values.out, { meta, rows });
process.stdout.write(
  `\ngRPC framings against a Go peer (${reps} interleaved repetitions; node ${meta.node}; ${meta.cpus})\n` +
    `median of the repetitions, spread = ±half their range; ratios from this run\n\n${formatTable(rows)}\n` +
    `${results.failures.length === 0 ? "" : `\nFAILED:\n${results.failures.join("\n")}\n`}\nwritten ${values.out}\n`,
);
if (results.failures.length > 0) process.exitCode = 1;
