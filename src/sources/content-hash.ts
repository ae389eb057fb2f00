import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";

/** Folders never part of a plugin's source identity. */
const ignored = new Set([".git", "node_modules", ".cache", "dist", "target"]);

/**
 * SHA-256 over a source tree: every file's relative path, mode (executable or not) and bytes, in
 * sorted order. Equal trees give equal hashes wherever they live; any edit changes it.
 */
export async function contentHash(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const files = await listFiles(dir);
  for (const file of files) {
    const info = await stat(file);
    hash.update(`${relative(dir, file)}\0${info.mode & 0o111 ? "x" : "-"}\0`);
    hash.update(await readFile(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (ignored.has(entry.name)) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  await walk(dir);
  return out;
}
