import { channel } from "node:diagnostics_channel";

/**
 * plugwire's `node:diagnostics_channel` channels: observe plugins and calls without a logger,
 * as undici's `undici:*` channels do. Subscribing costs the publisher nothing until someone
 * listens (every publish is behind `hasSubscribers`). Names and message shapes are public API
 * (docs/diagnostics.md).
 */

/** A plugin process is up: handshake read, connection checked (`plugwire:start`). */
export interface StartMessage {
  readonly plugin: string;
  readonly pid: number;
  /** `grpc`, `fast` or `netrpc`: the wire the calls use. */
  readonly wire: string;
  readonly address: string;
  /** From spawn (or attach) to a checked connection. */
  readonly durationMs: number;
}

/** A plugin process is gone (`plugwire:exit`). */
export interface ExitMessage {
  readonly plugin: string;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** Whether the host asked for it (`kill()`), rather than a crash. */
  readonly expected: boolean;
}

/** A supervisor schedules a restart of a crashed plugin (`plugwire:restart`). */
export interface RestartMessage {
  readonly plugin: string;
  /** 1 for the first restart after a healthy run. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

/** A call starts (`plugwire:call:start`) or ends (`plugwire:call:end`) on a client channel. */
export interface CallMessage {
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly kind: "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";
  readonly wire: string;
  /** Set on `plugwire:call:end`: from start to the outcome. */
  readonly durationMs?: number | undefined;
  /** Set on `plugwire:call:end` when the call failed (a `PluginError`). */
  readonly error?: unknown;
}

export const startChannel = channel("plugwire:start");
export const exitChannel = channel("plugwire:exit");
export const restartChannel = channel("plugwire:restart");
export const callStartChannel = channel("plugwire:call:start");
export const callEndChannel = channel("plugwire:call:end");

/** The channels by name, for documentation and tests. */
export const diagnosticsChannelNames = [
  "plugwire:start",
  "plugwire:exit",
  "plugwire:restart",
  "plugwire:call:start",
  "plugwire:call:end",
] as const;
