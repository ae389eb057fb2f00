// What a failed start or attach rejects with. Each step labels its own failures with the code
// that says what went wrong (the handshake step HANDSHAKE_INVALID, the check UNAVAILABLE or
// TLS_FAILED, the deadline HANDSHAKE_TIMEOUT, ...), so a PluginError passes on as it is. Anything
// else escaped a step unlabelled: that is a bug in plugwire, and it says so.
import { PluginError } from "../../errors/plugin-error.ts";
import type { StderrTail } from "../client/stderr-mirror.ts";

const issues = "https://github.com/plugwire/plugwire/issues";

/**
 * A PluginError as it is (named for `plugin` if it was not yet); anything else as INTERNAL, a bug
 * in plugwire to report, with the original error as its cause. `doing` completes "while …".
 */
export function classifyFailure(error: unknown, plugin: string, doing: string): PluginError {
  if (error instanceof PluginError) return error.withPlugin(plugin);
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new PluginError(
    "INTERNAL",
    `plugwire failed while ${doing} (${what}). This is a bug in plugwire, not in the plugin: ` +
      `please report it at ${issues} with this message and the stack of its cause.`,
    { plugin, cause: error },
  );
}

/** What a start knew about the plugin process when it failed. */
export interface StartedFacts {
  readonly cmd: string;
  readonly pid: number | undefined;
  readonly tail: StderrTail;
}

/** Failures the plugin's own stderr explains best: its last lines join the message. */
const explainedByStderr = new Set(["HANDSHAKE_INVALID", "HANDSHAKE_TIMEOUT", "TLS_FAILED"]);

/**
 * The error a start rejects with once the plugin process ran (`classifyFailure`), with its pid and
 * path in `details`, and its stderr tail for handshake and TLS failures.
 */
export function startFailure(error: unknown, plugin: string, facts: StartedFacts): PluginError {
  const failure = classifyFailure(error, plugin, "starting it");
  const shown = explainedByStderr.has(failure.code) ? withTail(failure, facts.tail) : failure;
  return new PluginError(shown.code, shown.rawMessage, {
    plugin,
    cause: shown.cause,
    details: { ...shown.details, pid: facts.pid, path: facts.cmd },
  });
}

/** Appends what the plugin last wrote to stderr to an error's message. */
export function withTail(error: PluginError, tail: StderrTail): PluginError {
  const text = tail.text();
  if (text === "") return error;
  return new PluginError(
    error.code,
    `${error.rawMessage}\nPlugin stderr (last lines):\n${indent(text)}`,
    {
      plugin: error.plugin,
      cause: error.cause,
      details: { ...error.details, stderr: text },
    },
  );
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
