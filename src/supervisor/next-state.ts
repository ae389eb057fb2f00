import { PluginError } from "../errors/plugin-error.ts";
import type { Step } from "../internal/step.ts";

/**
 * Resolves at the plugin's next state change, or rejects when `step` ends first: with the step's
 * own error at its deadline, as CANCELLED when the caller aborts. `subscribe` adds a state
 * listener and returns the function that removes it.
 */
export function nextState(
  plugin: string,
  subscribe: (listener: () => void) => () => void,
  step: Step,
): Promise<void> {
  const { signal } = step;
  if (signal.aborted) return Promise.reject(abortError(plugin, signal));
  return new Promise((resolve, reject) => {
    const done = () => {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      done();
      reject(abortError(plugin, signal));
    };
    const unsubscribe = subscribe(() => {
      done();
      resolve();
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(plugin: string, signal: AbortSignal): PluginError {
  return PluginError.from(signal.reason, "CANCELLED").withPlugin(plugin);
}
