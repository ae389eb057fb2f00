import { parseGoInt } from "./handshake-line.ts";

/**
 * Plugin-side version negotiation (go-plugin server.go): the highest of the plugin's versions that
 * the host lists in PLUGIN_PROTOCOL_VERSIONS; with none in common, the plugin's lowest (the host
 * then reports the mismatch). Unparsable entries are reported through `onInvalid` and skipped.
 */
export function negotiateVersion(
  own: readonly number[],
  hostList: string | undefined,
  onInvalid: (entry: string) => void = () => {},
): number {
  const sorted = [...own].sort((a, b) => b - a);
  const host = new Set<number>();
  for (const entry of (hostList ?? "").split(",")) {
    if (entry === "") continue;
    const n = parseGoInt(entry);
    if (n === undefined) onInvalid(entry);
    else host.add(n);
  }
  return sorted.find((v) => host.has(v)) ?? sorted[sorted.length - 1]!;
}
