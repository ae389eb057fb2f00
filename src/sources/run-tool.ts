import { spawn } from "node:child_process";

export interface ToolResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a build or fetch tool, collecting its combined output (last 64 KiB); never throws. */
export function runTool(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal | undefined } = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(cmd, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
    });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-65536);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => resolve({ code: null, output: `${output}${error.message}\n` }));
    child.on("close", (code) => resolve({ code, output }));
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
