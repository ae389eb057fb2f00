/** hclog's levels, in order. */
export const logLevels = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * A logger plugwire writes to. Any object with these five methods works (pino, console-like
 * wrappers); plugwire never forces one on you and defaults to none.
 */
export interface Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** `2006-01-02T15:04:05.000000Z`: exactly six fractional digits, as go-hclog writes and Go hosts parse. */
export function hclogTimestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/**
 * One hclog JSON line. The three `@` fields are always strings (a Go host crashes on anything
 * else); other fields are JSON values, errors rendered as their message.
 */
export function formatHclogLine(
  level: LogLevel,
  message: string,
  fields: Record<string, unknown> = {},
  module?: string,
): string {
  const entry: Record<string, unknown> = {
    "@level": level,
    "@message": String(message),
    "@timestamp": hclogTimestamp(),
  };
  if (module !== undefined) entry["@module"] = module;
  for (const [key, value] of Object.entries(fields)) {
    if (key.startsWith("@")) continue;
    entry[key] =
      value instanceof Error ? value.message : typeof value === "bigint" ? value.toString() : value;
  }
  try {
    return JSON.stringify(entry);
  } catch {
    return JSON.stringify({ ...entry, fields: "unserialisable" });
  }
}

/** A parsed stderr line: structured when it was a valid hclog JSON object. */
export interface ParsedLogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Record<string, unknown>;
  /** Why a JSON-looking line could not be taken as hclog (then the raw line is the message). */
  readonly problem?: string | undefined;
}

const hclogTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const textLevels: ReadonlyArray<[string, LogLevel]> = [
  ["[TRACE]", "trace"],
  ["[DEBUG]", "debug"],
  ["[INFO]", "info"],
  ["[WARN]", "warn"],
  ["[ERROR]", "error"],
];

/**
 * Parses one stderr line as go-plugin's host does (client.go logStderr, log_entry.go), but never
 * fails: an hclog JSON object becomes a structured entry; anything else is text whose level comes
 * from a `[LEVEL]` prefix, else DEBUG. `panicMode` is go-plugin v1.7's rule that after a `panic: `
 * or `fatal error: ` line every text line is an ERROR.
 */
export function parseLogLine(line: string, state: { panicMode: boolean }): ParsedLogLine {
  if (line.startsWith("{")) {
    const parsed = parseHclogJson(line);
    if (parsed !== undefined) return parsed;
  }
  if (line.startsWith("panic: ") || line.startsWith("fatal error: ")) state.panicMode = true;
  if (state.panicMode) return { level: "error", message: line, fields: {} };
  for (const [prefix, level] of textLevels) {
    if (line.startsWith(prefix)) return { level, message: line, fields: {} };
  }
  return { level: "debug", message: line, fields: {} };
}

function parseHclogJson(line: string): ParsedLogLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const {
    "@level": level,
    "@message": message,
    "@timestamp": timestamp,
    ...rest
  } = value as Record<string, unknown>;
  const raw = (problem: string): ParsedLogLine => ({
    level: "debug",
    message: line,
    fields: {},
    problem,
  });
  // JSON that is not hclog at all (no @ fields) is plain text to mirror, not a malformed entry.
  if (level === undefined && message === undefined)
    return { level: "debug", message: line, fields: {} };
  if (
    typeof level !== "string" ||
    (message !== undefined && typeof message !== "string") ||
    (timestamp !== undefined && typeof timestamp !== "string")
  ) {
    return raw("@level, @message and @timestamp must be strings");
  }
  const normalized = level.trim().toLowerCase();
  if (!(logLevels as readonly string[]).includes(normalized))
    return raw(`unknown @level "${level}"`);
  if (timestamp !== undefined && !hclogTime.test(timestamp)) {
    return raw(`@timestamp "${timestamp}" is not in hclog's format (six fractional digits)`);
  }
  if (!withinDepth(rest, maxFieldDepth))
    return raw(`fields nested deeper than ${maxFieldDepth} levels`);
  const fields: Record<string, unknown> = { ...rest };
  if (timestamp !== undefined) fields.timestamp = timestamp;
  return { level: normalized as LogLevel, message: message ?? "", fields };
}

/**
 * How deep an entry's fields may nest. A loggers' `JSON.stringify` recurses once per level, so a
 * 64 KiB line of `[[[[…]]]]` would overflow the host's stack where it is logged; no real log
 * entry comes near this.
 */
const maxFieldDepth = 64;

/** Whether `value` nests at most `depth` objects or arrays deep (iterative: no recursion). */
function withinDepth(value: unknown, depth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, level] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (level >= depth) return false;
    for (const child of Object.values(item)) stack.push([child, level + 1]);
  }
  return true;
}
