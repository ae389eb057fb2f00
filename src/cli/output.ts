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

/** Progress for long steps on stderr (never stdout, which scripts read). */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}
