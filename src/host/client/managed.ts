import { onProcessExit } from "../../platform/process.ts";

/**
 * Managed plugins (go-plugin's Managed + CleanupClients): every one is stopped when the host
 * exits, whether it returns normally, throws, or receives SIGINT/SIGTERM/SIGHUP.
 */
interface Managed {
  kill(): Promise<void>;
  /** Synchronous last resort for `process.on("exit")`: SIGKILL whatever is still running. */
  killNow(): void;
}

const clients = new Set<Managed>();
let installed = false;
let shuttingDown = false;

/**
 * True once the host has begun to shut down (a handled SIGINT/SIGTERM/SIGHUP, `process.exit()`,
 * an uncaught error, or `cleanupPlugins()`): plugins stopped from then on were stopped by the host,
 * so supervisors (ManagedPlugin) restart none of them and start no new ones.
 */
export function hostShuttingDown(): boolean {
  return shuttingDown;
}
const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export function manage(client: Managed): () => void {
  clients.add(client);
  install();
  return () => clients.delete(client);
}

/**
 * Stops every managed plugin (in parallel) and waits for all of them. The host counts as shutting
 * down from then on (`hostShuttingDown()`): supervised plugins are not restarted.
 */
export async function cleanupPlugins(): Promise<void> {
  shuttingDown = true; // before any plugin is killed: its exit is then never taken for a crash
  await Promise.allSettled([...clients].map((c) => c.kill()));
}

function install(): void {
  if (installed) return;
  installed = true;
  onProcessExit(() => {
    shuttingDown = true;
    for (const client of clients) client.killNow();
  });
  for (const signal of signals) {
    const handler = () => {
      // Clean up, then die of the same signal so the host's exit status stays what it would be.
      for (const s of signals) process.off(s, handlers[s]!);
      shuttingDown = true;
      void cleanupPlugins().finally(() => process.kill(process.pid, signal));
    };
    handlers[signal] = handler;
    // Only take over the signal when the application has not: its own handler decides then.
    if (process.listenerCount(signal) === 0) process.on(signal, handler);
  }
}

const handlers: Partial<Record<(typeof signals)[number], () => void>> = {};
