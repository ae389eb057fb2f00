import { spawn } from "node:child_process";

export interface ToolResult {
  readonly code: number | null;
  /** stdout and stderr interleaved, the last 64 KiB (for error messages). */
  readonly output: string;
  /** stdout alone, whole (up to 64 MiB): JSON answers of `npm view --json`, `go list -json`. */
  readonly stdout: string;
}

export interface ToolOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
}

const maxStdoutBytes = 64 * 1024 * 1024;

/** Runs a build or fetch tool, collecting its output; never throws (a failed spawn is code null). */
export function runTool(
  cmd: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    let output = "";
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const child = spawn(cmd, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
    });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-65536);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      collect(chunk);
      if (stdoutBytes + chunk.length > maxStdoutBytes) return;
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on("data", collect);
    const done = (code: number | null, extra = "") =>
      resolve({ code, output: output + extra, stdout: Buffer.concat(stdout).toString("utf8") });
    child.on("error", (error) => done(null, `${error.message}\n`));
    child.on("close", (code) => done(code));
  });
}

/** The last `n` lines of a tool's output, indented, for error messages. */
export function tail(output: string, n = 12): string {
  return output
    .trimEnd()
    .split("\n")
    .slice(-n)
    .map((line) => `  ${line}`)
    .join("\n");
}
