import { PluginError } from "../errors/plugin-error.ts";

/** When to restart a crashed plugin: exponential backoff with jitter. */
export interface RestartPolicy {
  /** Delay before the first restart. Default 100. */
  readonly initialDelayMs: number;
  /** Longest delay between restarts. Default 10000. */
  readonly maxDelayMs: number;
  /** Growth per consecutive crash. Default 2. */
  readonly multiplier: number;
  /** Random spread, a fraction of the delay (0.2 = ±20 %), so plugins do not restart in lockstep. Default 0.2. */
  readonly jitter: number;
}

/** When to give up: the crash-loop breaker. */
export interface BreakerPolicy {
  /** Crashes within `windowMs` that disable the plugin. Default 5. */
  readonly maxCrashes: number;
  /** The sliding window crashes are counted in. Default 60000. */
  readonly windowMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
};

export const defaultBreakerPolicy: BreakerPolicy = { maxCrashes: 5, windowMs: 60_000 };

/** Delay before restart number `attempt` (1-based). */
export function restartDelayMs(
  policy: RestartPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1),
  );
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/** Crash timestamps inside the breaker's sliding window. */
export class CrashWindow {
  readonly #policy: BreakerPolicy;
  #times: number[] = [];

  constructor(policy: BreakerPolicy) {
    this.#policy = policy;
  }

  /** Records a crash at `now`; returns how many crashes the window now holds. */
  record(now = Date.now()): number {
    this.#times = this.#times.filter((t) => now - t < this.#policy.windowMs);
    this.#times.push(now);
    return this.#times.length;
  }

  /** True when the breaker should trip. */
  tripped(): boolean {
    return this.#times.length >= this.#policy.maxCrashes;
  }

  reset(): void {
    this.#times = [];
  }
}

/** What follows a crash: a restart after a delay, or the breaker disabling the plugin. */
export type CrashVerdict =
  | { readonly t: "restart"; readonly crashes: number; readonly delayMs: number }
  | { readonly t: "disable"; readonly crashes: number; readonly error: PluginError };

/**
 * The restart policy and the crash-loop breaker of one plugin together: each crash is recorded,
 * and the verdict says whether to restart it (and after how long) or to give up on it.
 */
export class CrashPolicy {
  readonly #restart: RestartPolicy;
  readonly #breaker: BreakerPolicy;
  readonly #crashes: CrashWindow;

  constructor(restart?: Partial<RestartPolicy>, breaker?: Partial<BreakerPolicy>) {
    this.#restart = { ...defaultRestartPolicy, ...restart };
    this.#breaker = { ...defaultBreakerPolicy, ...breaker };
    this.#crashes = new CrashWindow(this.#breaker);
  }

  /** Records a crash of `plugin` and decides what comes next. */
  crashed(plugin: string, error: PluginError): CrashVerdict {
    const crashes = this.#crashes.record();
    if (!this.#crashes.tripped())
      return { t: "restart", crashes, delayMs: restartDelayMs(this.#restart, crashes) };
    const { maxCrashes, windowMs } = this.#breaker;
    return {
      t: "disable",
      crashes,
      error: new PluginError(
        "PLUGIN_DISABLED",
        `disabled after ${crashes} crashes within ${windowMs} ms (limit ${maxCrashes}); last: ${error.rawMessage}. ` +
          "Fix the plugin, then call enable() (or restart the host) to try again.",
        { plugin, cause: error, details: { crashes } },
      ),
    };
  }

  /** Forgets the crash history (a re-enabled plugin starts with a clean slate). */
  reset(): void {
    this.#crashes.reset();
  }
}
