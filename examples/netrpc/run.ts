// What the example tests share: running a program to its end, and talking to one that keeps
// running (line by line on stdout, commands on stdin).
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../test/support/wait.ts";

export const here = fileURLToPath(new URL(".", import.meta.url));
/** The examples' `node`: the project's Node with plugwire resolved to its sources. */
export const node = join(here, "node");

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` to its end (at most 90 s). */
export function run(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh working directory, removed when disposed. */
export function workDir(): { readonly dir: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "pw-netrpc-example-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running program whose stdout lines are collected; disposing ends its stdin and waits. */
export interface Live extends AsyncDisposable {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  /** Waits for a line matching `pattern` (past `from`, an index into `lines`) and returns it. */
  line(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  readonly stderr: () => string;
}

export function live(cmd: string, args: readonly string[]): Live {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    child,
    lines,
    stderr: () => stderr,
    line: (pattern, from = 0, timeoutMs = 60_000) =>
      waitFor(
        () => lines.slice(from).find((line) => pattern.test(line)),
        timeoutMs,
        `a line matching ${pattern}`,
        () => `stdout:\n${lines.join("\n")}\nstderr:\n${stderr.slice(-3000)}`,
      ),
    async [Symbol.asyncDispose]() {
      child.stdin.end();
      await exited;
    },
  };
}
