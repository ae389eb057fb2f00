// The four host/plugin pairings and how one benchmark scenario runs in each: a Go host is
// goplugin-host (go-plugin v1.8.0), a TS host is bench/ts-host.ts (plugwire's startPlugin); a Go
// plugin is goplugin-plugin -mode test, a TS plugin is the fixture plugin. Both hosts take the
// same flags and print the same report.
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runJson } from "./proc.ts";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
export const goBin = join(repoRoot, ".cache/interop-go");
export const tsHostScript = join(repoRoot, "bench/ts-host.ts");
/** Node flags for bench helper processes: compile cache for the helper itself (bench/compile-cache.mjs). */
export const helperNodeFlags = [
  "--import",
  pathToFileURL(join(repoRoot, "bench/compile-cache.mjs")).href,
];

export type Side = "ts" | "go";

export interface Pairing {
  readonly id: "ts-ts" | "ts-ts-grpc" | "ts-go" | "go-ts" | "go-go";
  readonly host: Side;
  readonly plugin: Side;
  readonly label: string;
  /** Extra host flags: `-grpc` refuses the fast wire (docs/fast-wire.md). */
  readonly hostFlags?: readonly string[];
}

export const pairings: readonly Pairing[] = [
  { id: "go-go", host: "go", plugin: "go", label: "Go host ↔ Go plugin" },
  { id: "ts-ts", host: "ts", plugin: "ts", label: "TS host ↔ TS plugin" },
  // The same processes over gRPC, as a Go host would talk to the TS plugin: shows what the fast
  // wire (the default between two plugwire peers) is worth. No target applies.
  {
    id: "ts-ts-grpc",
    host: "ts",
    plugin: "ts",
    label: "TS host ↔ TS plugin, gRPC wire",
    hostFlags: ["-grpc"],
  },
  { id: "ts-go", host: "ts", plugin: "go", label: "TS host → Go plugin" },
  { id: "go-ts", host: "go", plugin: "ts", label: "Go host → TS plugin" },
];

export const baselinePairing = pairings[0]!;

/** The plugin executable and its arguments. */
export function pluginCommand(side: Side): { cmd: string; args: string[] } {
  return side === "go"
    ? { cmd: join(goBin, "goplugin-plugin"), args: ["-mode", "test"] }
    : { cmd: join(repoRoot, "test/fixtures/fixture-plugin"), args: ["test-grpc"] };
}

export interface HostRun {
  readonly host: Side;
  readonly plugin: Side;
  readonly scenario: string;
  readonly autoMtls: boolean;
  readonly flags?: readonly string[];
  /** Extra Node flags for a TS host (e.g. --expose-gc). */
  readonly nodeFlags?: readonly string[];
}

/** Runs one scenario in a fresh host process and returns its `result`. */
export function runHost(run: HostRun): Promise<Record<string, unknown>> {
  return runHostWith(run, pluginCommand(run.plugin));
}

/** As `runHost`, with the plugin's launcher given. */
export function runHostWith(
  run: Omit<HostRun, "plugin">,
  plugin: { cmd: string; args: readonly string[] },
): Promise<Record<string, unknown>> {
  const args = [
    "-cmd",
    plugin.cmd,
    "-scenario",
    run.scenario,
    ...(run.autoMtls ? ["-automtls"] : []),
    ...(run.flags ?? []),
    "--",
    ...plugin.args,
  ];
  if (run.host === "go") return runJson(join(goBin, "goplugin-host"), args);
  return runJson(process.execPath, [
    ...helperNodeFlags,
    ...(run.nodeFlags ?? []),
    tsHostScript,
    ...args,
  ]);
}
