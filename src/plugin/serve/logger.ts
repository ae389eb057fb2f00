import type { Logger, LogLevel } from "../../protocol/hclog.ts";
import { formatHclogLine, logLevels } from "../../protocol/hclog.ts";

export interface PluginLoggerOptions {
  /** Logger name, sent as `@module`. */
  name?: string | undefined;
  /** Lowest level written. Default `trace`: the host decides what to show. */
  level?: LogLevel | undefined;
  /** Where lines go. Default: the real stderr, even while stdio is captured. */
  write?: ((line: string) => void) | undefined;
}

const realStderrWrite = process.stderr.write.bind(process.stderr);

/**
 * A logger for plugin code that writes hclog JSON lines to stderr, which go-plugin and plugwire
 * hosts mirror into their own logs with the right level and fields.
 */
export function createPluginLogger(options: PluginLoggerOptions = {}): Logger {
  const min = logLevels.indexOf(options.level ?? "trace");
  const write = options.write ?? ((line: string) => realStderrWrite(line));
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (logLevels.indexOf(level) < min) return;
    write(`${formatHclogLine(level, message, fields, options.name)}\n`);
  };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}
