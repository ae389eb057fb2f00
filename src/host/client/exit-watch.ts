/**
 * Watching a plugin process until it is gone, and the bounded waits for that exit that a stop
 * uses (a lost connection, a kill's grace period, a kill told to hurry).
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { settlesWithin } from "../../internal/settle.ts";
import { processAlive } from "../../platform/process.ts";

/** How a plugin process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when plugwire had to SIGKILL it after the grace period. */
  readonly forced: boolean;
}

/** The process a client watches: one it launched (`child`), or one it attached to by pid. */
export interface WatchedProcess {
  readonly pid: number;
  readonly child?: ChildProcess | undefined;
  /** Settles when the process has exited and its pipes are drained (launched plugins). */
  readonly processDone?: Promise<void> | undefined;
}

/** What the watcher reports, in this order, once each. */
export interface ExitHandlers {
  /** A launched process ended: fail the calls in flight now, without waiting for its pipes. */
  ended(code: number | null, signal: NodeJS.Signals | null): void;
  /** An attached process is gone (its exit status is not ours to see). */
  lost(): void;
  /** The exit is final: the pipes are drained (launched), or the pid is gone (attached). */
  final(code: number | null, signal: NodeJS.Signals | null): void;
}

/** How long after the process's exit its pipes may take to drain before the exit is reported. */
const pipeDrainMs = 500;

/** How often an attached plugin's pid is polled, as go-plugin does. */
const pollMs = 1000;

/** Watches `target` until it exits; returns the function that stops watching. */
export function watchExit(target: WatchedProcess, on: ExitHandlers): () => void {
  const { child, processDone } = target;
  if (child === undefined || processDone === undefined) return pollPid(target.pid, on);
  const ended = child.exitCode !== null || child.signalCode !== null;
  if (ended) on.ended(child.exitCode, child.signalCode);
  else child.once("exit", (code, signal) => on.ended(code, signal));
  // The exit is final once the pipes are drained (no log line lost), or shortly after the
  // process ended if a child of the plugin still holds them (go-plugin would hang there).
  void (ended ? Promise.resolve() : once(child, "exit").catch(() => {}))
    .then(() => settlesWithin(processDone, pipeDrainMs))
    .then(() => on.final(child.exitCode, child.signalCode));
  return () => {};
}

function pollPid(pid: number, on: ExitHandlers): () => void {
  const timer = setInterval(() => {
    if (processAlive(pid)) return;
    clearInterval(timer);
    on.lost();
    on.final(null, null);
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Whether the process exits within `ms` (or already has); `exited` is the client's. */
export async function exitsWithin(
  target: WatchedProcess,
  exited: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  const child = target.child;
  if (child === undefined) {
    // Attached: the exit watcher polls the pid; look now and after the wait.
    if (!processAlive(target.pid)) return true;
    return (await settlesWithin(exited, ms)) || !processAlive(target.pid);
  }
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const stop = new AbortController();
  try {
    return await settlesWithin(once(child, "exit", { signal: stop.signal }), ms);
  } finally {
    stop.abort();
  }
}

/**
 * True when `exited` settles within `ms`; false when the time runs out or `signal` aborts first
 * (a kill told to hurry). The timer and the listener go as soon as it is decided.
 */
export function exitedWithin(
  exited: Promise<unknown>,
  ms: number,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (inTime: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(inTime);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(done, ms, false);
    signal.addEventListener("abort", onAbort, { once: true });
    void exited.then(
      () => done(true),
      () => done(true),
    );
  });
}

/** Aborts `hurry` when `signal` does (at once if it has), until `stopped` settles. */
export function hurryOn(
  signal: AbortSignal | undefined,
  hurry: AbortController,
  stopped: Promise<void>,
): void {
  if (signal === undefined || hurry.signal.aborted) return;
  if (signal.aborted) {
    hurry.abort(signal.reason);
    return;
  }
  const onAbort = () => hurry.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  void stopped.then(() => signal.removeEventListener("abort", onAbort));
}
