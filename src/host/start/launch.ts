import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { PluginError } from "../../errors/plugin-error.ts";
import { settlesWithin } from "../../internal/settle.ts";
import { signalGroup } from "../../platform/process.ts";
import { guardTree } from "../../platform/tree-guard.ts";

export interface SpawnOptions {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd?: string | undefined;
  readonly env: Record<string, string>;
  /** Own process group, so kill reaches the plugin's children too. Default true. */
  readonly processGroup: boolean;
  /**
   * The plugin dies with the host: on Linux the kernel kills the plugin's process when the host
   * dies (PR_SET_PDEATHSIG via setpriv), and, with `processGroup`, the host's tree guard
   * (src/platform/tree-guard.ts) kills its whole group and removes `socketDir` (any POSIX system).
   */
  readonly dieWithHost: boolean;
  /** The plugin's private socket directory, removed by the tree guard if the host dies. */
  readonly socketDir?: string | undefined;
  /**
   * The executable, opened and verified (`secure`): on Linux the plugin is exec'd from this open
   * file (`/proc/self/fd/3`), so it runs the bytes that were hashed even if `cmd` is replaced.
   */
  readonly verifiedFd?: number | undefined;
}

/** Where a verified executable sits in the plugin's fds (after stdin, stdout, stderr). */
const verifiedFdSlot = 3;

/** What to undo once a plugin's tree is gone: its registration with the tree guard. */
const guards = new WeakMap<ChildProcess, () => void>();

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find(
  (path) => process.platform === "linux" && existsSync(path),
);

/**
 * Starts the plugin: stdin inherited (a plugin may talk to the user's terminal), stdout and stderr
 * piped. Resolves once the process exists; spawn failures (missing file, no permission) reject
 * with SPAWN_FAILED.
 */
export function spawnPlugin(options: SpawnOptions): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    if (options.dieWithHost && setpriv !== undefined) {
      // Through setpriv, a missing or non-executable plugin would only show as setpriv's exit.
      const problem = executableProblem(options.cmd);
      if (problem !== undefined) {
        reject(spawnFailed(options, problem));
        return;
      }
    }
    let child: ChildProcess;
    try {
      // A verified executable runs from its open file: the child (or setpriv) execs
      // /proc/self/fd/3, the descriptor the host hashed, passed without close-on-exec.
      const byFd = options.verifiedFd !== undefined && process.platform === "linux";
      const target = byFd ? `/proc/self/fd/${verifiedFdSlot}` : options.cmd;
      // setpriv sets the parent-death signal and execs the plugin: same pid, same process.
      const [file, args] =
        options.dieWithHost && setpriv !== undefined
          ? [setpriv, ["--pdeathsig", "KILL", "--", target, ...options.args]]
          : [target, [...options.args]];
      child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env,
        argv0: file === target ? options.cmd : file,
        stdio: byFd
          ? ["inherit", "pipe", "pipe", options.verifiedFd!]
          : ["inherit", "pipe", "pipe"],
        detached: options.processGroup,
      });
    } catch (error) {
      reject(spawnFailed(options, error));
      return;
    }
    if (options.processGroup && options.dieWithHost && child.pid !== undefined) {
      // Registered before anything else runs: the guard knows the group from the first moment.
      guards.set(child, guardTree(child.pid, options.socketDir));
    }
    child.once("error", (error) => {
      guards.get(child)?.();
      reject(spawnFailed(options, error));
    });
    child.once("spawn", () => resolve(child));
  });
}

export interface TreeEnd {
  readonly processGroup: boolean;
  /** Settles when the plugin's own process has exited. */
  readonly exited: Promise<unknown>;
  /** Settles when its stdout and stderr reached their end. */
  readonly pipes: Promise<unknown>;
  /** Runs once the tree is gone and the pipes are closed (removes the socket directory). */
  readonly cleanup: () => void;
}

/** How long after the process's exit its pipes may take to drain before they are closed. */
const pipeDrainMs = 500;

/**
 * Ends a plugin's process tree with its process, however it ended (its own exit, a crash, a
 * kill): SIGKILLs its process group, so children it left (SIGTERM-ignoring ones included) go too;
 * waits at most `pipeDrainMs` for its stdout and stderr to end, then closes them (a child outside
 * the group may still hold them: the host's fds are released anyway); runs `cleanup`; unregisters
 * the tree from the guard. Always settles.
 */
export async function endTreeWithProcess(child: ChildProcess, end: TreeEnd): Promise<void> {
  await end.exited;
  // The group outlives its leader while members remain, and its id is not reused meanwhile
  // (where there are no groups, the pid alone could be someone else's by now).
  if (end.processGroup && process.platform !== "win32") signalGroup(child.pid, "SIGKILL");
  if (!(await settlesWithin(end.pipes, pipeDrainMs))) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  try {
    end.cleanup();
  } finally {
    guards.get(child)?.();
    guards.delete(child);
  }
}

/** Why `cmd` cannot be executed (an errno error as spawn would give), or undefined. */
function executableProblem(cmd: string): NodeJS.ErrnoException | undefined {
  const candidates = cmd.includes("/")
    ? [cmd]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, cmd));
  let last: NodeJS.ErrnoException | undefined;
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return undefined;
      last = Object.assign(new Error(`spawn ${cmd} EACCES`), { code: "EACCES" });
    } catch (error) {
      last = error as NodeJS.ErrnoException;
    }
  }
  const error = last ?? Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: "ENOENT" });
  if (error.code !== "ENOENT" && error.code !== "EACCES") return error;
  return Object.assign(new Error(`spawn ${cmd} ${error.code}`), { code: error.code });
}

function spawnFailed(options: SpawnOptions, error: unknown): PluginError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint =
    code === "ENOENT"
      ? "the executable does not exist; check the path"
      : code === "EACCES"
        ? "the file is not executable by this process; check its permissions (chmod +x)"
        : "the operating system refused to start it";
  return new PluginError(
    "SPAWN_FAILED",
    `cannot start ${options.cmd}: ${(error as Error).message} (${hint})`,
    {
      plugin: options.name,
      cause: error,
      details: { path: options.cmd },
    },
  );
}
