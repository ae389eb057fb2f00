// Process helpers: resident set size of any pid, spawning a child and reading its JSON report.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const MiB = 1024 * 1024;

/** Resident set size of `pid` in MiB (Linux: /proc; elsewhere: ps). */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (match !== null) return (Number(match[1]) * 1024) / MiB;
  } catch {
    // not Linux, or the process is gone: fall back to ps
  }
  const out = execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" });
  return (Number(out.trim()) * 1024) / MiB;
}

/** The JSON document a bench child prints on stdout (goplugin-host's report shape). */
export interface ChildReport {
  ok: boolean;
  scenario?: string;
  result: Record<string, unknown> | null;
  error: string;
}

/** Runs `cmd args`, parses the single JSON report it prints; rejects with its stderr otherwise. */
export function runJson(
  cmd: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...args],
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 64 * MiB,
      },
      (error, stdout, stderr) => {
        let report: ChildReport;
        try {
          report = JSON.parse(stdout) as ChildReport;
        } catch {
          reject(
            new Error(
              `${cmd} ${args.join(" ")} printed no report (${error?.message ?? "no error"}):\n${stderr.slice(-4000)}`,
            ),
          );
          return;
        }
        if (!report.ok || report.result === null) {
          reject(
            new Error(`${cmd} ${args.join(" ")} failed: ${report.error}\n${stderr.slice(-4000)}`),
          );
          return;
        }
        resolve(report.result);
      },
    );
  });
}

export function num(result: Record<string, unknown>, key: string): number {
  const value = result[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`report field ${key} is not a number: ${JSON.stringify(value)}`);
  }
  return value;
}

/** Runs `cmd args` and parses the JSON object on its stdout (no report envelope). */
export function runJsonLine(
  cmd: string,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * MiB },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          reject(new Error(`${cmd} ${args.join(" ")}: ${error?.message ?? "no JSON"}\n${stderr}`));
        }
      },
    );
  });
}
