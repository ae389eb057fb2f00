// Rows for what Node offers without plugwire (bench/ipc.ts): fork() IPC beside the fast wire's
// sequential and 64-in-flight figures, and a worker_threads MessagePort as the in-process floor.
// Their ratio is to the TS ↔ TS fast-wire row, so the target reads "IPC is no faster than us".
import { join } from "node:path";
import type { BenchConfig } from "./config.ts";
import { helperNodeFlags, repoRoot } from "./pairings.ts";
import { num, runJsonLine } from "./proc.ts";
import type { Results, RowSpec } from "./rows.ts";

type IpcKind = "fork" | "port";
/** The call figures IPC is measured for, with the field bench/ipc.ts reports for each. */
const figures = {
  "unary.p50": "medianUs",
  inflight64: "callsPerSec",
} as const;
export type IpcFigure = keyof typeof figures;

export function isIpcFigure(key: string): key is IpcFigure {
  return key in figures;
}

export function ipcRow(
  key: IpcFigure,
  kind: IpcKind,
  measurement: string,
  fastWireRowId: string,
): RowSpec {
  const latency = key === "unary.p50";
  return {
    id: `call.${key}.ipc-${kind}.plain`,
    measurement,
    subject:
      kind === "fork"
        ? "Node fork() IPC, JSON (no plugwire)"
        : "worker_threads MessagePort (in-process floor)",
    mtls: "off",
    unit: latency ? "µs" : "calls/s",
    better: latency ? "lower" : "higher",
    baseline: fastWireRowId,
    baselineLabel: "fast wire",
    // Issue 11: the fast wire at least as fast as fork() IPC, in latency and in calls/s.
    target:
      kind === "port"
        ? undefined
        : latency
          ? { kind: "ratio-min", limit: 1.0, text: "≥ 1.0× fast wire (fast wire no slower)" }
          : { kind: "ratio-max", limit: 1.0, text: "≤ 1.0× fast wire (fast wire no slower)" },
  };
}

/** One repetition of both IPC kinds; `rows` are the specs declared for them. */
export async function runIpc(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
  rows: ReadonlyMap<string, RowSpec>,
): Promise<void> {
  for (const kind of ["fork", "port"] as const) {
    await results.attempt(`bench/ipc.ts ${kind}`, log, async () => {
      const result = await runJsonLine(process.execPath, [
        ...helperNodeFlags,
        join(repoRoot, "bench/ipc.ts"),
        kind,
        "-n",
        String(config.unaryCalls),
        "-warmup",
        String(config.warmupCalls),
        "-warmup-ms",
        String(config.throughputWarmupMs),
        "-duration-ms",
        String(config.throughputMs),
        "-concurrency",
        "64",
      ]);
      for (const [key, field] of Object.entries(figures)) {
        const spec = rows.get(`call.${key}.ipc-${kind}.plain`);
        if (spec !== undefined) results.add(spec, num(result, field));
      }
    });
  }
}
