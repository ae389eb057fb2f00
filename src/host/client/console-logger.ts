import type { Writable } from "node:stream";
import type { Logger, LogLevel } from "../../protocol/hclog.ts";
import { logLevels } from "../../protocol/hclog.ts";

export interface ConsoleLoggerOptions {
  /** Lowest level shown. Default `info`. */
  level?: LogLevel | undefined;
  /** Default `process.stderr`. */
  stream?: Writable | undefined;
  /** Logger name, shown before the plugin name. Default `host`. */
  name?: string | undefined;
}

/**
 * A small human-readable logger in hclog's text style
 * (`2026-11-22T04:00:00.000Z [INFO]  host.kv: message: key=value`), for demos and CLIs.
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = logLevels.indexOf(options.level ?? "info");
  const stream = options.stream ?? process.stderr;
  const name = options.name ?? "host";
  const at =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (logLevels.indexOf(level) < min) return;
      const { plugin, timestamp: _ignored, ...rest } = fields;
      const who = plugin === undefined ? name : `${name}.${String(plugin)}`;
      const kv = Object.entries(rest)
        .map(
          ([k, v]) =>
            `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`,
        )
        .join(" ");
      const tag = `[${level.toUpperCase()}]`.padEnd(7);
      stream.write(
        `${new Date().toISOString()} ${tag} ${who}: ${message}${kv === "" ? "" : `: ${kv}`}\n`,
      );
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}
