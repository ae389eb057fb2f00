// Locates the interop binaries that scripts/prepare-interop.ts builds. A missing binary fails the
// test with the command that builds it: interop suites never skip.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./fixture.ts";

const binDir = join(repoRoot, ".cache/interop-go");

export function goBinary(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run \`node scripts/prepare-interop.ts\` (npm test does it first)`,
    );
  }
  return path;
}

export const pythonPlugin = join(repoRoot, "examples/kv/plugin-python/plugin.py");

export function pythonBinary(): string {
  const path = join(repoRoot, ".cache/venv/bin/python3");
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`node scripts/prepare-interop.ts\``);
  return path;
}

/** The JSON report of goplugin-host (interop/go/README.md). */
export interface GoHostReport {
  ok: boolean;
  scenario: string;
  negotiatedVersion: number;
  protocol: string;
  result: Record<string, unknown> | null;
  killMs: number;
  exited: boolean;
  hostLog: Array<Record<string, unknown>>;
  syncStdout: string;
  syncStderr: string;
  pluginStderr: string;
  error: string;
}

export interface GoHostRun {
  readonly cmd: string;
  readonly args?: readonly string[];
  readonly flags?: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Runs goplugin-host with `flags` against plugin `cmd args` and returns its report. */
export function runGoHost(run: GoHostRun): Promise<GoHostReport> {
  return new Promise((resolve, reject) => {
    execFile(
      goBinary("goplugin-host"),
      ["-cmd", run.cmd, ...(run.flags ?? []), "--", ...(run.args ?? [])],
      {
        env: { ...process.env, ...run.env },
        cwd: run.cwd,
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (stdout.trim() === "") {
          reject(new Error(`goplugin-host crashed (${error?.message ?? "no output"}):\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout) as GoHostReport);
      },
    );
  });
}
