// Scale: N plugins started together by one TS host (AutoMTLS on, the default), time until every
// one is ready (handshake and health check done); TS plugins against Go plugins.
import type { BenchConfig } from "./config.ts";
import { benchPluginCommand } from "./fixture/launch.ts";
import type { Side } from "./pairings.ts";
import { runHostWith } from "./pairings.ts";
import { num } from "./proc.ts";
import type { Results, RowSpec } from "./rows.ts";

function scaleRow(n: number, plugin: Side): RowSpec {
  return {
    id: `scale.${n}.${plugin}-plugin`,
    measurement: `scale: ${n} plugin${n === 1 ? "" : "s"} started together → all ready`,
    subject: `TS host, ${plugin === "ts" ? "TS" : "Go"} plugins`,
    mtls: "on",
    unit: "ms",
    better: "lower",
    baseline: `scale.${n}.go-plugin`,
    baselineLabel: "Go plugins",
    // Issue 11: 32 TS plugins started together in at most twice the time of 32 Go plugins.
    target:
      n === 32 && plugin === "ts"
        ? { kind: "ratio-max", limit: 2.0, text: "≤ 2.0× Go plugins" }
        : undefined,
  };
}

export async function runScale(
  config: BenchConfig,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  for (const n of config.scaleCounts)
    for (const plugin of ["go", "ts"] as const) results.row(scaleRow(n, plugin));
  for (let rep = 0; rep < config.scaleReps; rep++) {
    for (const n of config.scaleCounts) {
      log(`scale: rep ${rep + 1}/${config.scaleReps} n=${n}`);
      for (const plugin of ["go", "ts"] as const) {
        await results.attempt(`bench-scale n=${n} ${plugin} plugins`, log, async () => {
          // The TS plugin as the manager installs it (bundled), as the start rows launch it.
          const result = await runHostWith(
            { host: "ts", scenario: "bench-scale", autoMtls: true, flags: ["-n", String(n)] },
            await benchPluginCommand(plugin),
          );
          results.add(scaleRow(n, plugin), num(result, "allReadyMs"));
        });
      }
    }
  }
}
