// The printed table and the JSON file.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Row, Unit } from "./rows.ts";

function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return "—";
  const digits =
    unit === "calls/s" || unit === "msg/s" || (unit === "µs" && value >= 100) || value >= 1000
      ? 0
      : 1;
  return `${value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

function status(row: Row): string {
  if (row.pending !== undefined) return row.pending;
  if (row.met === undefined) return "";
  return row.met ? "met" : "MISSED";
}

function ratioText(row: Row, rows: ReadonlyMap<string, Row>): string {
  if (row.ratio === undefined || !Number.isFinite(row.ratio)) return "";
  if (row.baselineLabel === "itself") return "1.00 (base)";
  let text = `${row.ratio.toFixed(2)}× ${row.baselineLabel ?? ""}`.trim();
  if (row.target?.kind === "plus-max" && row.baseline !== undefined) {
    const base = rows.get(row.baseline);
    if (base !== undefined) {
      const delta = row.summary.median - base.summary.median;
      text += ` (${delta >= 0 ? "+" : ""}${delta.toFixed(1)} ${row.unit})`;
    }
  }
  return text;
}

/** Plain-text table, one line per row; the measurement is printed when it changes. */
export function formatTable(rows: readonly Row[]): string {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const header = [
    "measurement",
    "subject",
    "mTLS",
    "median",
    "spread",
    "ratio",
    "target",
    "status",
  ];
  const lines: string[][] = [];
  let last = "";
  for (const row of rows) {
    const measurement = row.measurement === last ? "" : row.measurement;
    last = row.measurement;
    lines.push([
      measurement,
      row.subject,
      row.mtls ?? "",
      row.pending !== undefined ? "—" : formatValue(row.summary.median, row.unit),
      row.summary.n > 1 ? `±${(row.summary.spreadPct / 2).toFixed(0)}%` : "",
      ratioText(row, byId),
      row.target?.text ?? "",
      status(row),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const rightAligned = new Set([3, 4]);
  // Columns no row uses (e.g. mTLS or target in the transport comparison) are left out.
  const shown = header.map(
    (_, i) => i === 0 || i === 1 || i === 3 || lines.some((l) => l[i] !== ""),
  );
  const fmt = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .filter((_, i) => shown[i])
      .join("  ")
      .trimEnd();
  const out = [fmt(header), fmt(widths.map((w) => "-".repeat(w)))];
  let previous = "";
  for (const line of lines) {
    if (line[0] !== "" && previous !== "") out.push("");
    out.push(fmt(line));
    previous = line[0]! || previous;
  }
  return out.join("\n");
}

export function targetSummary(rows: readonly Row[]): string {
  const targeted = rows.filter((row) => row.target !== undefined);
  const met = targeted.filter((row) => row.met === true).length;
  const missed = targeted.filter((row) => row.met === false);
  const pending = targeted.filter((row) => row.pending !== undefined).length;
  const lines = [`targets: ${met} met, ${missed.length} missed, ${pending} pending`];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of missed) {
    const figure = ratioText(row, byId) || formatValue(row.summary.median, row.unit);
    lines.push(
      `  MISSED ${row.measurement} · ${row.subject}${row.mtls ? ` (mTLS ${row.mtls})` : ""}: ${figure}, target ${row.target!.text}`,
    );
  }
  return lines.join("\n");
}

export interface Report {
  readonly meta: Record<string, unknown>;
  readonly rows: readonly Row[];
  readonly failures?: readonly string[];
}

export function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
