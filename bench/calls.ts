// Call figures for every pairing, plain and with AutoMTLS: sequential unary 64 B (median, p99),
// throughput with 1/16/64 calls in flight, 1 MiB and 16 MiB unary messages, bidi stream
// messages/s. Each repetition runs every pairing of one measurement back to back, so ratios to
// Go ↔ Go compare figures taken moments apart.
import type { BenchConfig } from "./config.ts";
import { ipcRow, isIpcFigure, runIpc } from "./ipc-rows.ts";
import type { Pairing } from "./pairings.ts";
import { baselinePairing, pairings, runHost } from "./pairings.ts";
import { num } from "./proc.ts";
import type { Results, RowSpec, Target, Unit } from "./rows.ts";

const MiB = 1024 * 1024;

interface Figure {
  readonly key: string;
  readonly measurement: string;
  readonly unit: Unit;
  readonly better: "lower" | "higher";
  readonly field: string;
  /** Target for the given pairing, if issue 4 sets one. */
  readonly target?: (pairing: Pairing) => Target | undefined;
}

interface Measure {
  readonly scenario: string;
  readonly flags: (config: BenchConfig) => string[];
  readonly figures: readonly Figure[];
  /** Only with AutoMTLS off (rows kept for information, without a target). */
  readonly plainOnly?: boolean;
}

// Issue 11's targets: Go peers at least as fast as Go ↔ Go; TS ↔ TS on the fast wire well past it.
const atMost = (limit: number): Target => ({
  kind: "ratio-max",
  limit,
  text: `≤ ${limit.toFixed(1)}× Go↔Go`,
});
const atLeast = (limit: number): Target => ({
  kind: "ratio-min",
  limit,
  text: `≥ ${limit.toFixed(1)}× Go↔Go`,
});
const goPeer = (p: Pairing) => p.id === "ts-go" || p.id === "go-ts";

function measures(config: BenchConfig): Measure[] {
  return [
    {
      scenario: "bench-unary",
      flags: (c) => ["-n", String(c.unaryCalls), "-size", "64", "-warmup", String(c.warmupCalls)],
      figures: [
        {
          key: "unary.p50",
          measurement: "unary 64 B sequential · median",
          unit: "µs",
          better: "lower",
          field: "medianUs",
          target: (p) => (goPeer(p) ? atMost(1.0) : p.id === "ts-ts" ? atMost(0.5) : undefined),
        },
        {
          key: "unary.p99",
          measurement: "unary 64 B sequential · p99",
          unit: "µs",
          better: "lower",
          field: "p99Us",
        },
      ],
    },
    ...config.inFlight.map(
      (n): Measure => ({
        scenario: "bench-throughput",
        flags: (c) => [
          "-concurrency",
          String(n),
          "-duration-ms",
          String(c.throughputMs),
          "-warmup",
          String(c.warmupCalls),
          "-warmup-ms",
          String(c.throughputWarmupMs),
        ],
        figures: [
          {
            key: `inflight${n}`,
            measurement: `throughput 64 B · ${n} in flight`,
            unit: "calls/s",
            better: "higher",
            field: "callsPerSec",
            target: (p) =>
              n !== 64
                ? undefined
                : goPeer(p)
                  ? atLeast(1.0)
                  : p.id === "ts-ts"
                    ? atLeast(3.0)
                    : undefined,
          },
        ],
      }),
    ),
    {
      scenario: "bench-large",
      flags: (c) => [
        "-n",
        String(c.large1MiBCalls),
        "-size",
        String(MiB),
        "-warmup",
        String(c.large1MiBWarmupCalls),
      ],
      figures: [
        {
          key: "large1mib",
          measurement: "unary 1 MiB messages",
          unit: "MiB/s",
          better: "higher",
          field: "mibPerSec",
          target: (p) => (goPeer(p) ? atLeast(1.0) : undefined),
        },
      ],
    },
    {
      scenario: "bench-large",
      flags: (c) => [
        "-n",
        String(c.large16MiBCalls),
        "-size",
        String(16 * MiB),
        "-warmup",
        String(c.large16MiBWarmupCalls),
      ],
      figures: [
        {
          key: "large16mib",
          measurement: "unary 16 MiB messages",
          unit: "MiB/s",
          better: "higher",
          field: "mibPerSec",
          target: (p) => (goPeer(p) || p.id === "ts-ts" ? atLeast(1.0) : undefined),
        },
      ],
    },
    {
      scenario: "bench-stream",
      flags: (c) => [
        "-n",
        String(c.streamMessages),
        "-size",
        "64",
        "-warmup",
        String(c.streamWarmupMessages),
      ],
      figures: [
        {
          key: "stream",
          measurement: "bidi stream 64 B messages",
          unit: "msg/s",
          better: "higher",
          field: "messagesPerSec",
          target: (p) => (goPeer(p) || p.id === "ts-ts" ? atLeast(1.0) : undefined),
        },
      ],
    },
    // What a fresh host meets before its JIT has compiled the paths (no target): the rows above
    // warm up first, as steady-state figures must; these measure the first moments after
    // `warmupCalls` sequential calls, as the rows did before 2026-12-02.
    {
      scenario: "bench-throughput",
      plainOnly: true,
      flags: (c) => [
        "-concurrency",
        "64",
        "-duration-ms",
        String(c.throughputMs),
        "-warmup",
        String(c.warmupCalls),
      ],
      figures: [
        {
          key: "inflight64cold",
          measurement: "throughput 64 B · 64 in flight · cold",
          unit: "calls/s",
          better: "higher",
          field: "callsPerSec",
        },
      ],
    },
    {
      scenario: "bench-stream",
      plainOnly: true,
      flags: (c) => [
        "-n",
        String(c.coldStreamMessages),
        "-size",
        "64",
        "-warmup",
        String(c.warmupCalls),
      ],
      figures: [
        {
          key: "streamcold",
          measurement: "bidi stream 64 B messages · cold",
          unit: "msg/s",
          better: "higher",
          field: "messagesPerSec",
        },
      ],
    },
  ];
}

export const mtlsModes = [false, true] as const;

function modesOf(measure: Measure): readonly boolean[] {
  return measure.plainOnly === true ? [false] : mtlsModes;
}

export function callRowId(key: string, pairing: Pairing["id"], mtls: boolean): string {
  return `call.${key}.${pairing}.${mtls ? "mtls" : "plain"}`;
}

function spec(figure: Figure, pairing: Pairing, mtls: boolean): RowSpec {
  const isBase = pairing.id === baselinePairing.id;
  return {
    id: callRowId(figure.key, pairing.id, mtls),
    measurement: figure.measurement,
    subject: pairing.label,
    mtls: mtls ? "on" : "off",
    unit: figure.unit,
    better: figure.better,
    baseline: callRowId(figure.key, baselinePairing.id, mtls),
    baselineLabel: isBase ? "itself" : "Go↔Go",
    target: figure.target?.(pairing),
  };
}

export async function runCalls(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  const list = measures(config);
  // Declare every row first so the table order is fixed (pairing order within each measure),
  // with the IPC rows after the plain rows of the figures they are measured for.
  const ipcSpecs = new Map<string, RowSpec>();
  for (const measure of list)
    for (const figure of measure.figures)
      for (const mtls of modesOf(measure)) {
        for (const pairing of pairings) results.row(spec(figure, pairing, mtls));
        if (mtls || !isIpcFigure(figure.key)) continue;
        for (const kind of ["fork", "port"] as const) {
          const fast = callRowId(figure.key, "ts-ts", false);
          const row = ipcRow(figure.key, kind, figure.measurement, fast);
          ipcSpecs.set(row.id, row);
          results.row(row);
        }
      }
  for (let rep = 0; rep < config.reps; rep++) {
    await runIpc(config, results, log, ipcSpecs);
    for (const measure of list) {
      log(
        `calls: rep ${rep + 1}/${config.reps} ${measure.scenario} ${measure.flags(config).join(" ")}`,
      );
      for (const mtls of modesOf(measure)) {
        // Rotate the pairing order each repetition so no pairing always runs first.
        const order = pairings.map((_, i) => pairings[(i + rep) % pairings.length]!);
        for (const pairing of order) {
          const what = `${measure.scenario} ${measure.flags(config).join(" ")} ${pairing.id} mtls=${mtls}`;
          await results.attempt(what, log, async () => {
            const result = await runHost({
              host: pairing.host,
              plugin: pairing.plugin,
              scenario: measure.scenario,
              autoMtls: mtls,
              flags: [...(pairing.hostFlags ?? []), ...measure.flags(config)],
            });
            for (const figure of measure.figures)
              results.add(spec(figure, pairing, mtls), num(result, figure.field));
          });
        }
      }
    }
  }
}
