import type { Connection } from "./connection.ts";

export interface HealthOptions {
  /** Ping period; 0 turns pings off. */
  readonly intervalMs: number;
  /** Deadline of each ping. */
  readonly timeoutMs: number;
  /** Failed pings in a row after which the plugin is killed. */
  readonly unhealthyAfter: number;
}

/**
 * Pings a running plugin every `intervalMs`. Each failed ping is reported to `onFailure`, which
 * returns false when the connection is no longer the one it supervises (the ping is then not
 * counted). After `unhealthyAfter` failures in a row the plugin is killed without a graceful
 * shutdown: a hung plugin becomes a crash, which the supervisor restarts. One ping at a time: a
 * ping still waiting for its answer skips the next tick. Returns the function that stops the
 * pings, or undefined when they are off.
 */
export function watchHealth(
  connection: Connection,
  options: HealthOptions,
  onFailure: (error: unknown) => boolean,
): (() => void) | undefined {
  if (options.intervalMs <= 0) return undefined;
  let failures = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    connection
      .ping({ timeoutMs: options.timeoutMs })
      .then(
        () => {
          failures = 0;
        },
        (error: unknown) => {
          if (!onFailure(error)) return;
          failures++;
          if (failures >= options.unhealthyAfter) connection.terminate();
        },
      )
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
