// Memory: idle RSS of a TS plugin against a bare Node process idling beside it (and a Go plugin
// for reference), and the host's RSS growth per additional plugin (TS host, after GC).
// The TS plugin is the bench plugin bundled as the manager installs it, beside the same plugin as
// modules (`node plugin.ts`, no target) (bench/fixture/launch.ts).
import type { BenchConfig } from "./config.ts";
import type { TsPluginForm } from "./fixture/launch.ts";
import { benchPluginCommand } from "./fixture/launch.ts";
import type { Side } from "./pairings.ts";
import { runHost, runHostWith } from "./pairings.ts";
import { num } from "./proc.ts";
import type { Results, RowSpec } from "./rows.ts";

export const bareNodeRow: RowSpec = {
  id: "memory.bare-node",
  measurement: "idle RSS",
  subject: "bare Node (`node -e setInterval`)",
  unit: "MiB",
  better: "lower",
  baseline: "memory.bare-node",
  baselineLabel: "itself",
};

function idleRow(plugin: Side, mtls: boolean, form: TsPluginForm = "bundled"): RowSpec {
  const modules = plugin === "ts" && form === "modules";
  return {
    id: `memory.idle.${modules ? "ts-modules" : `${plugin}-plugin`}.${mtls ? "mtls" : "plain"}`,
    measurement: "idle RSS",
    subject:
      plugin === "go" ? "Go plugin" : modules ? "TS plugin as modules" : "TS plugin, bundled",
    mtls: mtls ? "on" : "off",
    unit: "MiB",
    better: "lower",
    baseline: bareNodeRow.id,
    baselineLabel: "bare Node",
    target:
      plugin === "ts" && !modules
        ? { kind: "plus-max", limit: 15, text: "≤ bare Node + 15 MiB" }
        : undefined,
  };
}

function hostRow(plugin: Side): RowSpec {
  return {
    id: `memory.host-per-plugin.${plugin}-plugin`,
    measurement: "host RSS per additional plugin",
    subject: `TS host, ${plugin === "ts" ? "TS" : "Go"} plugins`,
    mtls: "on",
    unit: "MiB",
    better: "lower",
    baseline: "memory.host-per-plugin.go-plugin",
    baselineLabel: "Go plugins",
  };
}

export async function runMemory(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  results.row(bareNodeRow);
  const idle: Array<[plugin: Side, mtls: boolean, form: TsPluginForm]> = [];
  for (const plugin of ["ts", "go"] as const)
    for (const mtls of [false, true]) idle.push([plugin, mtls, "bundled"]);
  for (const mtls of [false, true]) idle.push(["ts", mtls, "modules"]);
  for (const [plugin, mtls, form] of idle) results.row(idleRow(plugin, mtls, form));
  for (const plugin of ["ts", "go"] as const) results.row(hostRow(plugin));
  for (let rep = 0; rep < config.reps; rep++) {
    log(`memory: rep ${rep + 1}/${config.reps}`);
    for (const [plugin, mtls, form] of idle) {
      const row = idleRow(plugin, mtls, form);
      await results.attempt(`bench-idle-rss ${row.id}`, log, async () => {
        const result = await runHostWith(
          {
            host: "ts",
            scenario: "bench-idle-rss",
            autoMtls: mtls,
            flags: ["-settle-ms", String(config.idleSettleMs)],
          },
          await benchPluginCommand(plugin, form),
        );
        results.add(row, num(result, "pluginRssMiB"));
        results.add(bareNodeRow, num(result, "bareNodeRssMiB"));
      });
    }
    for (const plugin of ["ts", "go"] as const) {
      await results.attempt(`bench-host-rss ${plugin} plugins`, log, async () => {
        const result = await runHost({
          host: "ts",
          plugin,
          scenario: "bench-host-rss",
          autoMtls: true,
          flags: ["-n", String(config.hostRssPlugins)],
          nodeFlags: ["--expose-gc"],
        });
        results.add(hostRow(plugin), num(result, "perPluginMiB"));
      });
    }
  }
}
