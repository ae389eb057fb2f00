import type { Readable, Writable } from "node:stream";
import type { Logger, ParsedLogLine } from "../protocol/hclog.ts";
import { parseLogLine } from "../protocol/hclog.ts";

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
  let pending = "";

  const emit = (line: string, forceRaw: boolean) => {
    tail.push(line);
    const entry: ParsedLogLine = forceRaw
      ? { level: "debug", message: line, fields: {}, problem: "line too long" }
      : parseLogLine(line, state);
    if (entry.problem !== undefined) {
      const kind = forceRaw ? "long" : "malformed";
      if (!reported.has(kind)) {
        reported.add(kind);
        options.onProblem?.(entry.problem);
      }
    }
    options.onEntry?.(entry);
    options.logger?.[entry.level](entry.message, { plugin: options.name, ...entry.fields });
  };

  stream.setEncoding("utf8");
  const sink = options.stderr;
  // Back-pressure: while the raw copy's sink is full, the plugin's stderr pipe is not read, so
  // the plugin blocks on its own writes (as with any pipe) instead of the host buffering them.
  const resume = () => {
    sink?.off("drain", resume);
    sink?.off("close", resume);
    stream.resume();
  };
  stream.on("data", (chunk: string) => {
    if (sink !== undefined && !sink.destroyed && !sink.write(chunk)) {
      stream.pause();
      sink.on("drain", resume);
      sink.once("close", resume);
    }
    pending += chunk;
    for (;;) {
      const newline = pending.indexOf("\n");
      if (newline < 0) break;
      const line = pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
      if (Buffer.byteLength(line) > max) for (const piece of split(line, max)) emit(piece, true);
      else emit(line, false);
    }
    while (Buffer.byteLength(pending) > max) {
      emit(pending.slice(0, max), true);
      pending = pending.slice(max);
    }
  });
  return new Promise((resolve) => {
    const done = () => {
      if (pending !== "") emit(pending, false);
      pending = "";
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

function split(line: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < line.length; i += size) pieces.push(line.slice(i, i + size));
  return pieces;
}
