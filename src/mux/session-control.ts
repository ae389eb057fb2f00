import type { PluginError } from "../errors/plugin-error.ts";

/** What the parts of a `YamuxSession` (writer, reader, stream table, pings) may ask of it. */
export interface SessionControl {
  /** Why the session ended, once it has. */
  readonly failure: PluginError | undefined;
  /** Ends the session on a failure this side detected: open streams fail with `reason`. */
  fail(reason: PluginError): void;
}
