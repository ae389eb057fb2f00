import { PluginError } from "../errors/plugin-error.ts";
import { initialStreamWindowBytes } from "./frame.ts";

/** yamux client (opens odd stream ids; the go-plugin host) or server (even ids; the plugin). */
export type YamuxRole = "client" | "server";

/** Options of a `YamuxSession`. Defaults are hashicorp/yamux's `DefaultConfig()`. */
export interface YamuxSessionOptions {
  /** `client` on the side that dialled (go-plugin's host), `server` on the side that accepted. */
  role: YamuxRole;
  /**
   * Streams the peer may open that are not accepted yet (more are refused with RST); also how
   * many of this side's opens may await the peer's ACK before further opens hold back their SYN.
   * Default 256.
   */
  acceptBacklog?: number | undefined;
  /** Interval of keep-alive pings; a ping not answered in time ends the session. 0 disables. Default 30 000. */
  keepAliveIntervalMs?: number | undefined;
  /**
   * How long a ping may wait for its answer, and how long the connection may refuse writes
   * (write buffer full, no drain) before the session is considered dead. Default 10 000.
   */
  connectionWriteTimeoutMs?: number | undefined;
  /** How long an opened stream may wait for the peer's ACK before the session is closed. 0 disables. Default 75 000. */
  streamOpenTimeoutMs?: number | undefined;
  /** How long a stream may wait for the peer's FIN after its own before it is reset. 0 disables. Default 300 000. */
  streamCloseTimeoutMs?: number | undefined;
  /** Receive window granted to each stream (at least 256 KiB). Default 256 KiB. */
  maxStreamWindowBytes?: number | undefined;
}

/** {@link YamuxSessionOptions} checked, with every default filled in. */
export interface SessionSettings {
  readonly role: YamuxRole;
  readonly acceptBacklog: number;
  readonly keepAliveIntervalMs: number;
  readonly connectionWriteTimeoutMs: number;
  readonly streamOpenTimeoutMs: number;
  readonly streamCloseTimeoutMs: number;
  readonly maxStreamWindowBytes: number;
}

/** Checks the options up front; throws `CONFIG_INVALID` naming the first bad one. */
export function sessionSettings(options: YamuxSessionOptions): SessionSettings {
  const settings: SessionSettings = {
    role: options.role,
    acceptBacklog: positive(options.acceptBacklog, 256, "acceptBacklog"),
    connectionWriteTimeoutMs: positive(
      options.connectionWriteTimeoutMs,
      10_000,
      "connectionWriteTimeoutMs",
    ),
    streamOpenTimeoutMs: nonNegative(options.streamOpenTimeoutMs, 75_000, "streamOpenTimeoutMs"),
    streamCloseTimeoutMs: nonNegative(
      options.streamCloseTimeoutMs,
      300_000,
      "streamCloseTimeoutMs",
    ),
    keepAliveIntervalMs: nonNegative(options.keepAliveIntervalMs, 30_000, "keepAliveIntervalMs"),
    maxStreamWindowBytes: options.maxStreamWindowBytes ?? initialStreamWindowBytes,
  };
  const window = settings.maxStreamWindowBytes;
  if (!Number.isInteger(window) || window < initialStreamWindowBytes || window > 0x7fff_ffff) {
    throw new PluginError(
      "CONFIG_INVALID",
      `maxStreamWindowBytes must be an integer from ${initialStreamWindowBytes} to 2^31-1`,
    );
  }
  return settings;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result <= 0) {
    throw new PluginError("CONFIG_INVALID", `${name} must be a positive number`);
  }
  return result;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0) {
    throw new PluginError("CONFIG_INVALID", `${name} must be zero or a positive number`);
  }
  return result;
}
