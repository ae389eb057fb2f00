/**
 * Finds the line (1-based) where a dotted key is set in TOML text, for error messages: a table
 * header `[a.b]`, a key `c = ...` under it, or a dotted key `b.c = ...`. Falls back to the
 * closest enclosing table that is found, then line 1.
 */
export function locateKey(text: string, path: readonly string[]): number {
  const lines = text.split("\n");
  let table: string[] = [];
  let best = { depth: 0, line: 1 };
  const consider = (full: string[], line: number) => {
    let depth = 0;
    while (depth < full.length && depth < path.length && full[depth] === path[depth]) depth++;
    if (depth === full.length && depth > best.depth) best = { depth, line };
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/#.*$/, "").trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(raw);
    if (header !== null) {
      table = splitKey(header[1]!);
      consider(table, i + 1);
      continue;
    }
    const key = /^([A-Za-z0-9_\-."' ]+?)\s*=/.exec(raw);
    if (key !== null) consider([...table, ...splitKey(key[1]!)], i + 1);
  }
  return best.line;
}

function splitKey(key: string): string[] {
  return (key.match(/"[^"]*"|'[^']*'|[^.]+/g) ?? []).map((part) =>
    part.trim().replace(/^["']|["']$/g, ""),
  );
}
