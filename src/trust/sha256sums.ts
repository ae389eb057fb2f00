import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * Parses a `SHA256SUMS` file as `sha256sum` writes it (`<64 hex>  <name>`, `*` before the name in
 * binary mode): file name → lowercase hex digest. Lines that are not checksums are skipped.
 */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+?)\r?$/.exec(line);
    if (match !== null) sums.set(match[2]!.replace(/^\.\//, ""), match[1]!.toLowerCase());
  }
  return sums;
}

/** Writes `SHA256SUMS` lines in sha256sum's text form, sorted by name. */
export function formatSha256Sums(
  entries: Iterable<readonly [name: string, sha256: string]>,
): string {
  return [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, sum]) => `${sum}  ${name}\n`)
    .join("");
}

/** The SHA-256 of a file, lowercase hex, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
