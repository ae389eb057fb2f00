// Where a started plugin makes its sockets. A private socket directory per plugin (go-plugin does
// this for RunnerFunc): whatever sockets the plugin leaves, even when it is SIGKILLed, go with the
// directory once it has exited. Named for this host's pid, so a later host can sweep it if both
// this host and its tree guard died (src/platform/socket-dirs.ts).
import { chmodSync, chownSync, rmSync } from "node:fs";
import { PluginError } from "../../errors/plugin-error.ts";
import { onProcessExit } from "../../platform/process.ts";
import { makeSocketDir } from "../../platform/socket-dirs.ts";
import { resolveGroup } from "../../transport/listen.ts";
import type { StartConfig } from "./config.ts";

/** The caller's directory (theirs to clean), or a private one this start made and removes. */
export type SocketDir =
  | { readonly t: "caller"; readonly path: string }
  | { readonly t: "private"; readonly path: string; readonly remove: () => void };

/**
 * The plugin's socket directory: the caller's `unixSocketDir`, or a new private one (0700, or
 * 0770 and the group's with `unixSocketGroup`, as go-plugin's TestSetGroup), removed by `remove()`
 * or, at the latest, when the host exits, however abruptly.
 */
export function openSocketDir(config: StartConfig): SocketDir {
  if (config.unixSocketDir !== undefined) return { t: "caller", path: config.unixSocketDir };
  const path = makeSocketDir();
  const erase = () => rmSync(path, { recursive: true, force: true });
  const untrack = onProcessExit(erase);
  const remove = () => {
    erase();
    untrack();
  };
  if (config.unixSocketGroup !== undefined) {
    try {
      // A plugin running under that group can create its sockets here.
      chownSync(path, -1, resolveGroup(config.unixSocketGroup));
      chmodSync(path, 0o770);
    } catch (error) {
      remove();
      if (error instanceof PluginError) throw error.withPlugin(config.name);
      throw new PluginError(
        "CONFIG_INVALID",
        `cannot give the plugin's socket directory to group ${JSON.stringify(config.unixSocketGroup)}: ${(error as Error).message}. ` +
          "Use a group this process belongs to, or leave unixSocketGroup unset.",
        { plugin: config.name, cause: error },
      );
    }
  }
  return { t: "private", path, remove };
}

/** Removes the directory if this start made it. */
export function removeSocketDir(dir: SocketDir): void {
  if (dir.t === "private") dir.remove();
}
