/**
 * Process primitives every part of the host uses: whether a pid is alive, signalling a process
 * group, and one synchronous hook for the moment the host process exits. POSIX semantics; on
 * Windows there are no process groups, and `signalGroup` signals the process itself.
 */

/** Whether a process exists (signal 0); EPERM means it exists but belongs to another user. */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Sends `signal` to the process group led by `pid` (to the process alone where there are no
 * groups, or with `group: false`). Returns false when there was nothing left to signal.
 */
export function signalGroup(
  pid: number | undefined,
  signal: NodeJS.Signals,
  group = process.platform !== "win32",
): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch {
    return false; // the group (or process) is already gone
  }
}

const exitHooks = new Set<() => void>();
let exitHooked = false;

/**
 * Runs `hook` synchronously when this process exits (`process.on("exit")`): the last chance to
 * SIGKILL plugins and remove socket directories when the host ends abruptly. Hooks run in the
 * order they were added; one that throws does not stop the others. Returns the function that
 * removes it.
 */
export function onProcessExit(hook: () => void): () => void {
  exitHooks.add(hook);
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => {
      for (const run of exitHooks) {
        try {
          run();
        } catch {
          // an exit hook must not keep the others from running
        }
      }
    });
  }
  return () => exitHooks.delete(hook);
}
