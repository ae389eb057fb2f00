import type { Readable, Writable } from "node:stream";
import type { Logger, ParsedLogLine } from "../../protocol/hclog.ts";
import { parseLogLine } from "../../protocol/hclog.ts";

export interface StderrMirrorOptions {
  /** Plugin name, added to every mirrored entry as `plugin`. */
  readonly name: string;
  readonly logger: Logger | undefined;
  /** Raw copy of stderr, line-structured (go-plugin's ClientConfig.Stderr). */
  readonly stderr?: Writable | undefined;
  /** Longest line parsed; longer ones are mirrored raw in pieces at DEBUG. Default 64 KiB. */
  readonly lineBytes?: number | undefined;
  /** Every mirrored entry, for tests and tools. */
  readonly onEntry?: ((entry: ParsedLogLine) => void) | undefined;
  /** A malformed or over-long line was seen (reported once per kind). */
  readonly onProblem?: ((problem: string) => void) | undefined;
}

/** The last stderr lines, kept for error messages ("the plugin said …"). */
export class StderrTail {
  readonly #lines: string[] = [];
  push(line: string): void {
    this.#lines.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.#lines.length > 20) this.#lines.shift();
  }
  get lines(): readonly string[] {
    return this.#lines;
  }
  text(): string {
    return this.#lines.join("\n");
  }
}

/**
 * Reads the plugin's stderr to EOF and mirrors each line into the host logger, as go-plugin does
 * (hclog JSON with levels and fields, `[LEVEL]` text prefixes, panic mode), never throwing on odd
 * input. Resolves when stderr ends. Holds at most one line (`lineBytes`) and what the raw sink
 * buffers up to its high-water mark: reading pauses while the sink is full.
 */
export function mirrorStderr(
  stream: Readable,
  options: StderrMirrorOptions,
  tail: StderrTail,
): Promise<void> {
  const max = options.lineBytes ?? 64 * 1024;
  const state = { panicMode: false };
  const reported = new Set<string>();

  const emit = (line: string, forceRaw: boolean) => {
    tail.push(line);
    const entry: ParsedLogLine = forceRaw
      ? { level: "debug", message: line, fields: {}, problem: "line too long" }
      : parseLogLine(line, state);
    if (entry.problem !== undefined) report(forceRaw ? "long" : "malformed", entry.problem);
    options.onEntry?.(entry);
    try {
      options.logger?.[entry.level](entry.message, { plugin: options.name, ...entry.fields });
    } catch (error) {
      // This runs in a stream listener: a logger that throws on what a plugin wrote must not
      // take the host down.
      report("logger", `the host's logger threw on a mirrored line: ${(error as Error).message}`);
    }
  };
  const report = (kind: string, problem: string) => {
    if (reported.has(kind)) return;
    reported.add(kind);
    options.onProblem?.(problem);
  };

  const sink = options.stderr;
  // Back-pressure: while the raw copy's sink is full, the plugin's stderr pipe is not read, so
  // the plugin blocks on its own writes (as with any pipe) instead of the host buffering them.
  const resume = () => {
    sink?.off("drain", resume);
    sink?.off("close", resume);
    stream.resume();
  };
  // Bytes, not text: the raw copy is byte for byte, and line limits count bytes.
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    if (sink !== undefined && !sink.destroyed && !sink.write(chunk)) {
      stream.pause();
      sink.on("drain", resume);
      sink.once("close", resume);
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (;;) {
      const newline = pending.indexOf(0x0a, start);
      if (newline < 0) break;
      const end = newline > start && pending[newline - 1] === 0x0d ? newline - 1 : newline;
      if (end - start > max) for (const piece of split(pending, start, end, max)) emit(piece, true);
      else emit(pending.toString("utf8", start, end), false);
      start = newline + 1;
    }
    while (pending.length - start > max) {
      const cut = charBoundary(pending, start + max, start);
      emit(pending.toString("utf8", start, cut), true);
      start = cut;
    }
    pending = pending.subarray(start);
  });
  return new Promise((resolve) => {
    const done = () => {
      if (pending.length > 0) emit(pending.toString("utf8"), false);
      pending = Buffer.alloc(0);
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

/** `bytes[start, end)` in pieces of at most `size` bytes, never splitting a UTF-8 character. */
function split(bytes: Buffer, start: number, end: number, size: number): string[] {
  const pieces: string[] = [];
  for (let at = start; at < end; ) {
    const cut = at + size >= end ? end : charBoundary(bytes, at + size, at);
    pieces.push(bytes.toString("utf8", at, cut));
    at = cut;
  }
  return pieces;
}

/** The last position at or before `at` (and after `floor`) that does not cut a UTF-8 sequence. */
function charBoundary(bytes: Buffer, at: number, floor: number): number {
  let cut = at;
  while (cut > floor + 1 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}
