// A plugin client's lifecycle as a tagged union, and the `plugwire:exit` message its end publishes.
import type { ExitMessage } from "../../internal/diagnostics.ts";
import { exitChannel } from "../../internal/diagnostics.ts";
import type { ExitInfo } from "./exit-watch.ts";

/** The lifecycle of a client, as a tagged union. */
export type PluginClientState =
  | { readonly t: "running"; readonly pid: number }
  | { readonly t: "stopping"; readonly pid: number }
  | { readonly t: "exited"; readonly exit: ExitInfo };

export interface PluginClientEvents {
  exit: [ExitInfo];
  state: [PluginClientState];
}

type View<T extends PluginClientState["t"]> = Extract<PluginClientState, { t: T }>;

/**
 * Everything about a client that changes over its life, as one tagged union. `view` is what
 * `state` shows; `forced` records a SIGKILL the host sent (`ExitInfo.forced`); `stopped` is the
 * one stop every `kill()` shares, and `hurry` what a kill's signal aborts.
 */
export type Life =
  | { readonly t: "running"; readonly view: View<"running">; readonly forced: boolean }
  | {
      readonly t: "stopping";
      readonly view: View<"stopping">;
      readonly forced: boolean;
      readonly stopped: Promise<void>;
      readonly hurry: AbortController;
    }
  | {
      readonly t: "exited";
      readonly view: View<"exited">;
      readonly stopped: Promise<void> | undefined;
    };

/** `plugwire:exit`: the process is gone; `expected` when the host was stopping it. */
export function publishExit(plugin: string, pid: number, exit: ExitInfo, expected: boolean): void {
  if (!exitChannel.hasSubscribers) return;
  const message: ExitMessage = { plugin, pid, code: exit.code, signal: exit.signal, expected };
  exitChannel.publish(message);
}
