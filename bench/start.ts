// Plugin start: spawn to first successful call, for a TS and a Go plugin, from a TS host (spawn →
// handshake → health check → one Echo) and from the Go host (spawn → handshake → Ping), against
// `node -e 0` (spawn → exit) timed by the same TS host processes, interleaved with the starts.
import type { BenchConfig } from "./config.ts";
import type { Side } from "./pairings.ts";
import { runHost } from "./pairings.ts";
import { num } from "./proc.ts";
import type { Results, RowSpec } from "./rows.ts";
import { median } from "./stats.ts";

const measurement = "plugin start: spawn → first call";
export const nodeE0Row: RowSpec = {
  id: "start.node-e0",
  measurement,
  subject: "`node -e 0` (spawn → exit)",
  unit: "ms",
  better: "lower",
  baseline: "start.node-e0",
  baselineLabel: "itself",
};

function startRow(host: Side, plugin: Side, mtls: boolean): RowSpec {
  const name = plugin === "ts" ? "TS plugin" : "Go plugin";
  return {
    id: `start.${host}-host.${plugin}-plugin.${mtls ? "mtls" : "plain"}`,
    measurement,
    subject: host === "ts" ? `${name} (TS host)` : `${name} (Go host, to Ping)`,
    mtls: mtls ? "on" : "off",
    unit: "ms",
    better: "lower",
    baseline: nodeE0Row.id,
    baselineLabel: "node -e 0",
    // Issue 11: ≤ 2.0× `node -e 0` plain, ≤ 2.5× with AutoMTLS.
    target:
      host === "ts" && plugin === "ts"
        ? {
            kind: "ratio-max",
            limit: mtls ? 2.5 : 2.0,
            text: `≤ ${mtls ? "2.5" : "2.0"}× node -e 0`,
          }
        : undefined,
  };
}

export async function runStart(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  results.row(nodeE0Row);
  const combos: Array<[host: Side, plugin: Side, mtls: boolean]> = [];
  for (const host of ["ts", "go"] as const)
    for (const plugin of ["ts", "go"] as const)
      for (const mtls of [false, true]) combos.push([host, plugin, mtls]);
  for (const [host, plugin, mtls] of combos) results.row(startRow(host, plugin, mtls));
  const n = String(config.startsPerRep);
  for (let rep = 0; rep < config.reps; rep++) {
    log(`start: rep ${rep + 1}/${config.reps}`);
    const nodeMs: number[] = [];
    for (const [host, plugin, mtls] of combos) {
      await results.attempt(
        `bench-start ${host} host, ${plugin} plugin, mtls=${mtls}`,
        log,
        async () => {
          const result = await runHost({
            host,
            plugin,
            scenario: "bench-start",
            autoMtls: mtls,
            flags: ["-n", n],
          });
          if (host === "ts") {
            results.add(startRow(host, plugin, mtls), num(result, "pluginMedianMs"));
            nodeMs.push(...(result.nodeMs as number[]));
          } else {
            results.add(startRow(host, plugin, mtls), num(result, "medianMs"));
          }
        },
      );
    }
    if (nodeMs.length > 0) results.add(nodeE0Row, median(nodeMs));
  }
}
