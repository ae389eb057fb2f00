import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { unzipSync } from "fflate";
import { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { runTool, tail } from "./run-tool.ts";

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
 * Unpacks a release archive (a zip with fflate, a .tar.gz with the system tar) into `dir`, every
 * entry checked to stay inside it, and finds the plugin: a package folder when it holds a manifest
 * (plugwire.json / plugwire.toml, at the top or in one folder), else its one executable (named
 * like the archive, when it holds several files). The executable is made executable: archive
 * tools record modes inconsistently, so they are not trusted.
 */
export async function unpackArchive(
  file: string,
  dir: string,
  url: string,
  plugin: string | undefined,
): Promise<UnpackedArchive> {
  const names = isTarGz(url)
    ? await extractTarGz(file, dir, url, plugin)
    : await extractZip(await readFile(file), dir, url, plugin);
  return findPlugin(names, dir, url, plugin);
}

/** Whether a URL names a gzipped tarball rather than a zip. */
export function isTarGz(url: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(new URL(url).pathname);
}

async function extractZip(
  zip: Uint8Array,
  dir: string,
  url: string,
  plugin: string | undefined,
): Promise<string[]> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw broken(url, "zip archive", (error as Error).message, plugin, error);
  }
  const names = Object.keys(files).filter((name) => !name.endsWith("/"));
  for (const name of names) {
    checkName(name, url, plugin);
    await mkdir(join(dir, dirname(name)), { recursive: true });
    await writeFile(join(dir, name), files[name]!, { mode: 0o644 });
  }
  return names;
}

/**
 * Lists the tarball first and refuses names that leave the folder, and links (the long listing
 * marks them `l` or `h`, in GNU tar and bsdtar alike), before the system tar extracts it.
 */
async function extractTarGz(
  file: string,
  dir: string,
  url: string,
  plugin: string | undefined,
): Promise<string[]> {
  const plain = await runTool("tar", ["-tzf", file]);
  const long = await runTool("tar", ["-tvzf", file]);
  if (plain.code !== 0 || long.code !== 0)
    throw broken(url, "gzipped tarball", tail(plain.output, 3), plugin);
  // Both listings have one line per member in the same order; the long one gives the type.
  const entries = plain.stdout.split("\n").filter((line) => line !== "");
  const types = long.stdout.split("\n").filter((line) => line !== "");
  const names: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const type = types[i]?.[0];
    if (type === "l" || type === "h")
      throw new PluginError(
        "FETCH_FAILED",
        `${url} holds a link (${entry}); refused (it is not a safe release)`,
        { plugin, details: { url, entry } },
      );
    const name = entry.replace(/^\.\//, "");
    checkName(name, url, plugin);
    if (type === "-") names.push(name);
  }
  const result = await runTool("tar", ["-xzf", file, "-C", dir, "--no-same-owner"]);
  if (result.code !== 0) throw broken(url, "gzipped tarball", tail(result.output, 3), plugin);
  return names;
}

function checkName(name: string, url: string, plugin: string | undefined): void {
  if (name.startsWith("/") || name.includes("\\") || name.split("/").includes(".."))
    throw new PluginError(
      "FETCH_FAILED",
      `${url} holds ${JSON.stringify(name)}, a path outside the archive; refused (it is not a safe release)`,
      { plugin, details: { url, entry: name } },
    );
}

function broken(
  url: string,
  what: string,
  why: string,
  plugin: string | undefined,
  cause?: unknown,
) {
  return new PluginError(
    "FETCH_FAILED",
    `${url} is not a valid ${what} (${why.trim()}), though its hash matches the release's SHA256SUMS: the publisher uploaded a broken file. Ask them to fix the release`,
    { plugin, cause, details: { url } },
  );
}

/** The package folder or the one executable among the unpacked `names`. */
async function findPlugin(
  names: string[],
  dir: string,
  url: string,
  plugin: string | undefined,
): Promise<UnpackedArchive> {
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
