// net/rpc figures (issue 12): go-plugin's net/rpc protocol, the Iglu seed's call
// (Plugin.GetManifest, a struct of strings and a []string back) between a host and one plugin:
// sequential calls (median) and calls/s with 64 in flight, for Go host ↔ Go plugin (the base),
// TS host → Go plugin, Go host → TS plugin and TS ↔ TS. A Go host is interop/go's iglu-host
// (go-plugin v1.8.0, the seed's host), a TS host is this file run as a script (plugwire's
// startPlugin), the plugins are iglu-plugin and examples/netrpc/iglu/plugin.ts. Plain
// connections, as go-plugin's host is configured in the seed (no AutoMTLS).
//
//   node bench/netrpc.ts --bench seq|par [--n N] [--inflight C] [--duration-ms D] [--warmup W] -- CMD ARGS
//     (the TS host: iglu-host -bench's flags, which Go's flag package also reads with two
//     dashes, and the same JSON line)
import { join } from "node:path";
import { parseArgs } from "node:util";
import { go } from "../src/gob/index.ts";
import { startPlugin } from "../src/index.ts";
import { define } from "../src/rpc/netrpc/define.ts";
import type { BenchConfig } from "./config.ts";
import type { Side } from "./pairings.ts";
import { goBin, helperNodeFlags, repoRoot } from "./pairings.ts";
import { num, runJsonLine } from "./proc.ts";
import type { Results, RowSpec, Target } from "./rows.ts";
import { latencySummaryUs } from "./stats.ts";

/** examples/netrpc/iglu/iglu.ts, declared on the sources (bench runs without package resolution). */
const Iglu = define({
  GetManifest: {
    args: go.interface,
    reply: go.struct("sdk.GetManifestReply", {
      Manifest: go.struct("sdk.PluginManifest", {
        Id: go.string,
        Name: go.string,
        Author: go.string,
        Version: go.string,
        Description: go.string,
        Capabilities: go.slice(go.string),
      }),
    }),
  },
});
const handshake = {
  magicCookieKey: "IGLU_PLUGIN",
  magicCookieValue: "MzlK0OGpIRs",
  protocolVersion: 1,
};

interface NetRpcPairing {
  readonly id: "go-go" | "ts-go" | "go-ts" | "ts-ts";
  readonly host: Side;
  readonly plugin: Side;
  readonly label: string;
}

const pairings: readonly NetRpcPairing[] = [
  { id: "go-go", host: "go", plugin: "go", label: "Go host ↔ Go plugin, net/rpc" },
  { id: "ts-go", host: "ts", plugin: "go", label: "TS host → Go plugin, net/rpc" },
  { id: "go-ts", host: "go", plugin: "ts", label: "Go host → TS plugin, net/rpc" },
  { id: "ts-ts", host: "ts", plugin: "ts", label: "TS host ↔ TS plugin, net/rpc" },
];

// Issue 12's target: a TypeScript plugin under a Go host within 1.5× the Go plugin's latency.
const goHostTsPlugin: Target = { kind: "ratio-max", limit: 1.5, text: "≤ 1.5× Go↔Go" };

function seqRow(p: NetRpcPairing): RowSpec {
  return {
    id: `netrpc.seq.p50.${p.id}`,
    measurement: "net/rpc GetManifest sequential · median",
    subject: p.label,
    unit: "µs",
    better: "lower",
    baseline: "netrpc.seq.p50.go-go",
    baselineLabel: p.id === "go-go" ? "itself" : "Go↔Go",
    target: p.id === "go-ts" ? goHostTsPlugin : undefined,
  };
}

function parRow(p: NetRpcPairing): RowSpec {
  return {
    id: `netrpc.inflight64.${p.id}`,
    measurement: "net/rpc GetManifest · 64 in flight",
    subject: p.label,
    unit: "calls/s",
    better: "higher",
    baseline: "netrpc.inflight64.go-go",
    baselineLabel: p.id === "go-go" ? "itself" : "Go↔Go",
  };
}

function pluginCommand(side: Side): string[] {
  return side === "go"
    ? [join(goBin, "iglu-plugin"), "-id", "bench"]
    : [join(repoRoot, "examples/netrpc/node"), join(repoRoot, "examples/netrpc/iglu/plugin.ts")];
}

async function measure(p: NetRpcPairing, flags: string[]): Promise<Record<string, unknown>> {
  const args = [...flags, "--", ...pluginCommand(p.plugin)];
  const result =
    p.host === "go"
      ? await runJsonLine(join(goBin, "iglu-host"), args)
      : await runJsonLine(process.execPath, [
          ...helperNodeFlags,
          join(repoRoot, "bench/netrpc.ts"),
          ...args,
        ]);
  if (result.event !== "bench") throw new Error(`no figure: ${JSON.stringify(result)}`);
  if (result.protocol !== "netrpc")
    throw new Error(`spoke ${String(result.protocol)}, not net/rpc`);
  return result;
}

/** The `netrpc` section of bench/run.ts. */
export async function runNetRpc(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  for (const p of pairings) results.row(seqRow(p));
  for (const p of pairings) results.row(parRow(p));
  const warmup = ["--warmup", String(config.warmupCalls)];
  const seq = ["--bench", "seq", "--n", String(config.unaryCalls), ...warmup];
  const par = [
    ...["--bench", "par", "--inflight", "64", "--duration-ms", String(config.throughputMs)],
    ...warmup,
  ];
  for (let rep = 0; rep < config.reps; rep++) {
    log(`netrpc: rep ${rep + 1}/${config.reps}`);
    // Rotate the order each repetition so no pairing always runs first.
    const order = pairings.map((_, i) => pairings[(i + rep) % pairings.length]!);
    for (const p of order) {
      await results.attempt(`netrpc seq ${p.id}`, log, async () => {
        results.add(seqRow(p), num(await measure(p, seq), "medianUs"));
      });
      await results.attempt(`netrpc par ${p.id}`, log, async () => {
        results.add(parRow(p), num(await measure(p, par), "callsPerSec"));
      });
    }
  }
}

/** The TS host: iglu-host -bench's flags and JSON line, on plugwire's startPlugin. */
async function tsHost(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      bench: { type: "string" },
      n: { type: "string", default: "2000" },
      inflight: { type: "string", default: "64" },
      "duration-ms": { type: "string", default: "500" },
      warmup: { type: "string", default: "200" },
    },
  });
  const [cmd = "", ...args] = positionals;
  await using plugin = await startPlugin({
    cmd,
    args,
    handshake,
    plugins: { iglu_plugin: Iglu },
    autoMtls: false,
  });
  const iglu = plugin.dispense("iglu_plugin");
  for (let i = 0; i < Number(values.warmup); i++) await iglu.GetManifest(null);
  const line: Record<string, unknown> = { event: "bench", protocol: plugin.protocol };
  if (values.bench === "seq") {
    const n = Number(values.n);
    const samples = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await iglu.GetManifest(null);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    Object.assign(line, { n, ...latencySummaryUs(samples) });
  } else {
    const inflight = Number(values.inflight);
    let calls = 0;
    const t0 = performance.now();
    const stop = t0 + Number(values["duration-ms"]);
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (performance.now() < stop) {
          await iglu.GetManifest(null);
          calls++;
        }
      }),
    );
    Object.assign(line, {
      inflight,
      calls,
      callsPerSec: calls / ((performance.now() - t0) / 1000),
    });
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

if (import.meta.main) await tsHost(process.argv.slice(2));
