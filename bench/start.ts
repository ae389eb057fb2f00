// Plugin start: spawn to first successful call, for a TS and a Go plugin, from a TS host (spawn →
// handshake → health check → one Echo) and from the Go host (spawn → handshake → Ping), against
// `node -e 0` (spawn → exit) timed by the same TS host processes, interleaved with the starts.
// The TS plugin is the bench plugin bundled as the manager installs it (bench/fixture/launch.ts);
// the "as modules" rows run the same plugin as `node plugin.ts`, without a target.
import type { BenchConfig } from "./config.ts";
import type { TsPluginForm } from "./fixture/launch.ts";
import { benchPluginCommand } from "./fixture/launch.ts";
import type { Side } from "./pairings.ts";
import { runHostWith } from "./pairings.ts";
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

function startRow(host: Side, plugin: Side, mtls: boolean, form: TsPluginForm): RowSpec {
  const modules = plugin === "ts" && form === "modules";
  const name =
    plugin === "go" ? "Go plugin" : modules ? "TS plugin as modules" : "TS plugin, bundled";
  return {
    id: `start.${host}-host.${modules ? "ts-modules" : `${plugin}-plugin`}.${mtls ? "mtls" : "plain"}`,
    measurement,
    subject: host === "ts" ? `${name} (TS host)` : `${name} (Go host, to Ping)`,
    mtls: mtls ? "on" : "off",
    unit: "ms",
    better: "lower",
    baseline: nodeE0Row.id,
    baselineLabel: "node -e 0",
    // Issue 11: ≤ 2.0× `node -e 0` plain, ≤ 2.5× with AutoMTLS.
    target:
      host === "ts" && plugin === "ts" && !modules
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
  const combos: Array<[host: Side, plugin: Side, mtls: boolean, form: TsPluginForm]> = [];
  for (const host of ["ts", "go"] as const)
    for (const plugin of ["ts", "go"] as const)
      for (const mtls of [false, true]) combos.push([host, plugin, mtls, "bundled"]);
  for (const mtls of [false, true]) combos.push(["ts", "ts", mtls, "modules"]);
  for (const [host, plugin, mtls, form] of combos) results.row(startRow(host, plugin, mtls, form));
  const n = String(config.startsPerRep);
  for (let rep = 0; rep < config.reps; rep++) {
    log(`start: rep ${rep + 1}/${config.reps}`);
    const nodeMs: number[] = [];
    for (const [host, plugin, mtls, form] of combos) {
      const row = startRow(host, plugin, mtls, form);
      await results.attempt(`bench-start ${row.id}`, log, async () => {
        const result = await runHostWith(
          { host, scenario: "bench-start", autoMtls: mtls, flags: ["-n", n] },
          await benchPluginCommand(plugin, form),
        );
        if (host === "ts") {
          results.add(row, num(result, "pluginMedianMs"));
          nodeMs.push(...(result.nodeMs as number[]));
        } else {
          results.add(row, num(result, "medianMs"));
        }
      });
    }
    if (nodeMs.length > 0) results.add(nodeE0Row, median(nodeMs));
  }
}
