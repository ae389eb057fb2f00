import { chmod, mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { unzipSync } from "fflate";
import { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";

/** What an unpacked archive holds. */
export interface UnpackedArchive {
  readonly kind: "executable" | "folder";
  readonly path: string;
  readonly executable: string;
}

/** Files in a release beside the executable that are not it. */
const notExecutable =
  /(^|\/)(LICEN[CS]E|README|NOTICE|CHANGELOG|COPYING)[^/]*$|\.(md|txt|html|json|toml|ya?ml|sig|pem|asc|sha256)$/i;

/**
 * Unpacks a zip into `dir` (every entry checked to stay inside it) and finds the plugin: a package
 * folder when it holds a manifest (plugwire.json / plugwire.toml, at the top or in one folder),
 * else its one executable (named like the archive, when it holds several files). The executable
 * is made executable: zip tools record modes inconsistently, so they are not trusted.
 */
export async function unpackArchive(
  zip: Uint8Array,
  dir: string,
  url: string,
  plugin: string | undefined,
): Promise<UnpackedArchive> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw new PluginError(
      "FETCH_FAILED",
      `${url} is not a valid zip archive (${(error as Error).message}), though its hash matches the release's SHA256SUMS: the publisher uploaded a broken file. Ask them to fix the release`,
      { plugin, cause: error, details: { url } },
    );
  }
  const names = Object.keys(files).filter((name) => !name.endsWith("/"));
  for (const name of names) {
    if (name.startsWith("/") || name.includes("\\") || name.split("/").includes(".."))
      throw new PluginError(
        "FETCH_FAILED",
        `${url} holds ${JSON.stringify(name)}, a path outside the archive; refused (it is not a safe release)`,
        { plugin, details: { url, entry: name } },
      );
    await mkdir(join(dir, dirname(name)), { recursive: true });
    await writeFile(join(dir, name), files[name]!, { mode: 0o644 });
  }
  const top = [...new Set(names.map((n) => n.split("/")[0]!))];
  for (const folder of top.length === 1 && names[0]!.includes("/")
    ? [join(dir, top[0]!), dir]
    : [dir]) {
    const manifest = findPackageManifest(folder);
    if (manifest === undefined) continue;
    const pkg = await readPackageManifest(manifest);
    if (!pkg.entry.startsWith(folder + sep) || !names.includes(pkg.entry.slice(dir.length + 1)))
      throw new PluginError(
        "NOT_A_PLUGIN",
        `${url} holds a manifest whose entry ${JSON.stringify(pkg.entry)} is not a file in the archive; ask the publisher to fix the release`,
        { plugin, details: { url, entry: pkg.entry } },
      );
    await chmod(pkg.entry, 0o755);
    return { kind: "folder", path: folder, executable: pkg.entry };
  }
  const candidates = names.filter((n) => !notExecutable.test(n));
  const prefix = basename(new URL(url).pathname).split("_")[0]!;
  const chosen =
    candidates.length === 1
      ? candidates[0]
      : candidates.find((n) => basename(n) === prefix || basename(n).startsWith(`${prefix}_`));
  if (chosen === undefined)
    throw new PluginError(
      "NOT_A_PLUGIN",
      `${url} holds no single executable (${candidates.length === 0 ? "no files but documents" : candidates.join(", ")}) and no plugwire.json: name the executable like the archive (${prefix}), or add a manifest`,
      { plugin, details: { url, files: names } },
    );
  const executable = join(dir, chosen);
  await chmod(executable, 0o755);
  return { kind: "executable", path: executable, executable };
}
