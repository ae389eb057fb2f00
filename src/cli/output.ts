/** Prints rows as aligned columns (human output). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v), 2)}\n`,
  );
}

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/**
 * Progress for long steps (clone, dependency install, build, start check) on stderr, never stdout,
 * which scripts read. On a terminal: one line, rewritten for each step and ticking the step's
 * elapsed time, cleared by `done()`. Otherwise: one plain line per step.
 */
export class Progress {
  readonly #stream: ProgressStream;
  #timer: NodeJS.Timeout | undefined;
  #message = "";
  #started = 0;

  constructor(stream: ProgressStream = process.stderr) {
    this.#stream = stream;
  }

  step(message: string): void {
    if (this.#stream.isTTY !== true) {
      this.#stream.write(`… ${message}\n`);
      return;
    }
    this.#message = message;
    this.#started = Date.now();
    this.#render();
    this.#timer ??= setInterval(() => this.#render(), 200).unref();
  }

  /** Clears the terminal line (before the result or an error is printed). */
  done(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write("\r\x1b[2K");
  }

  #render(): void {
    const seconds = (Date.now() - this.#started) / 1000;
    const text = `… ${this.#message}${seconds >= 1 ? ` (${seconds.toFixed(0)} s)` : ""}`;
    // Never wider than the terminal: a wrapped line cannot be rewritten in place.
    const width = Math.max(20, (this.#stream.columns || 80) - 1);
    this.#stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
  }
}

/** The CLI's progress on stderr. */
export const progressLine = new Progress();

/** A progress line for a long step (see `Progress`). */
export function progress(message: string): void {
  progressLine.step(message);
}

/** The last lines a plugin wrote to stderr before it failed, indented, or "" if none. */
export function stderrTail(error: unknown, indent = "    ", lines = 10): string {
  const text = (error as { details?: { stderr?: unknown } } | undefined)?.details?.stderr;
  if (typeof text !== "string" || text.trim() === "") return "";
  const tail = text.trimEnd().split("\n").slice(-lines);
  return [
    `${indent}stderr (last ${tail.length} line${tail.length === 1 ? "" : "s"}):`,
    ...tail.map((l) => `${indent}  ${l}`),
  ].join("\n");
}

/**
 * Progress of several plugins at once (install runs them in parallel). On a terminal: one line
 * with each running plugin's current step, `… kv: bundling · reports: go build (3 s)`, rewritten
 * in place; otherwise one plain line per step, prefixed with the plugin's name.
 */
export class ParallelProgress {
  readonly #stream: ProgressStream;
  readonly #steps = new Map<string, { message: string; started: number }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: ProgressStream = process.stderr) {
    this.#stream = stream;
  }

  /** A progress function for one plugin's steps. */
  for(name: string): (message: string) => void {
    return (message) => this.step(name, message);
  }

  step(name: string, message: string): void {
    if (this.#stream.isTTY !== true) {
      this.#stream.write(`… ${name}: ${message}\n`);
      return;
    }
    this.#steps.set(name, { message, started: Date.now() });
    this.#render();
    this.#timer ??= setInterval(() => this.#render(), 200).unref();
  }

  /** The plugin is done: its step leaves the line. */
  finish(name: string): void {
    this.#steps.delete(name);
    if (this.#stream.isTTY === true && this.#timer !== undefined) this.#render();
  }

  /** Clears the terminal line (before results or an error are printed). */
  done(): void {
    this.#steps.clear();
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write("\r\x1b[2K");
  }

  #render(): void {
    const now = Date.now();
    const parts = [...this.#steps].map(([name, { message, started }]) => {
      const seconds = (now - started) / 1000;
      return `${name}: ${message}${seconds >= 1 ? ` (${seconds.toFixed(0)} s)` : ""}`;
    });
    const text = `… ${parts.join(" · ")}`;
    const width = Math.max(20, (this.#stream.columns || 80) - 1);
    this.#stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
  }
}
