import type { PluginError } from "../errors/plugin-error.ts";
import type { ExitInfo } from "../host/client/plugin-client.ts";
import type { Connection, ConnectionInfo } from "./connection.ts";

/** The lifecycle of a supervised plugin, as a tagged union. */
export type ManagedPluginState =
  | { readonly t: "stopped" }
  | { readonly t: "starting" }
  | { readonly t: "running"; readonly info: ConnectionInfo; readonly sinceMs: number }
  | {
      readonly t: "crashed";
      readonly error: PluginError;
      readonly exit: ExitInfo | undefined;
      /** Crashes inside the breaker's window, this one included. */
      readonly crashes: number;
    }
  | { readonly t: "restarting"; readonly attempt: number; readonly delayMs: number }
  | { readonly t: "disabled"; readonly error: PluginError };

export type ManagedPluginStateName = ManagedPluginState["t"];

type Stopped = Extract<ManagedPluginState, { t: "stopped" }>;
type Crashed = Extract<ManagedPluginState, { t: "crashed" }>;
type Disabled = Extract<ManagedPluginState, { t: "disabled" }>;

/** A start under way; `started` settles with it, `abort` cancels it. */
export interface Starting {
  readonly t: "starting";
  readonly started: Promise<Connection>;
  readonly abort: AbortController;
}

export interface Running {
  readonly t: "running";
  readonly connection: Connection;
  readonly sinceMs: number;
  /** Stops the health pings; undefined when they are off. */
  readonly stopHealth: (() => void) | undefined;
}

export interface Restarting {
  readonly t: "restarting";
  readonly attempt: number;
  readonly delayMs: number;
  /** Fires the restart. */
  readonly timer: NodeJS.Timeout;
}

/** Closed for good; the state shown stays the one it had (stopped, or disabled with its reason). */
export interface Closed {
  readonly t: "closed";
  readonly shown: Stopped | Disabled;
}

/**
 * Everything a ManagedPlugin is doing, as one tagged union: what it runs, starts or waits for
 * lives in the phase it belongs to, so leaving a phase is the one place its work ends. The public
 * `ManagedPluginState` is a view of it (`stateOf`).
 */
export type Phase = Stopped | Starting | Running | Crashed | Restarting | Disabled | Closed;

/** The public view of a phase. */
export function stateOf(phase: Phase): ManagedPluginState {
  switch (phase.t) {
    case "starting":
      return { t: "starting" };
    case "running":
      return { t: "running", info: phase.connection.info, sinceMs: phase.sinceMs };
    case "restarting":
      return { t: "restarting", attempt: phase.attempt, delayMs: phase.delayMs };
    case "closed":
      return phase.shown;
    default:
      return phase;
  }
}

/** Ends the work a phase does (timers, pings) as the plugin leaves it. */
export function leave(phase: Phase): void {
  if (phase.t === "restarting") clearTimeout(phase.timer);
  if (phase.t === "running") phase.stopHealth?.();
}
