// The one way tests wait for something to happen: poll a condition until it holds or a deadline
// passes. No fixed sleeps: a test waits exactly as long as the thing takes, and when it never
// happens the failure says what was awaited, for how long, and what was seen instead.
import { setTimeout as delay } from "node:timers/promises";

const pollMs = 10;

type Falsy = false | 0 | 0n | "" | null | undefined;

/**
 * Polls `condition` every 10 ms until it returns a truthy value, and resolves with that value.
 * Past `timeoutMs` it throws `timed out after N ms waiting for <what>`, followed by `seen()` when
 * given (the state to debug from). A condition that throws ends the wait with its error: that is
 * how a caller stops early, when what it waits for can no longer happen (the process exited).
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 5000,
  what = `\`${String(condition)}\``,
  seen?: () => string,
): Promise<Exclude<T, Falsy>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Exclude<T, Falsy>;
    if (performance.now() > deadline) {
      const detail = seen === undefined ? "" : `; seen: ${seen()}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await delay(pollMs);
  }
}
