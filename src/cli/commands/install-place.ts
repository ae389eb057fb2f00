// Placing a fetched plugin in its install folder (staged first), and finding the one file that
// runs: the artifact whose SHA-256 the lock records and the manager checks before every start.
import { existsSync } from "node:fs";
import { chmod, cp, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type { PackageManifest } from "../../discovery/package-manifest.ts";
import { findPackageManifest, readPackageManifest } from "../../discovery/package-manifest.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { FetchedSource } from "../../sources/resolve.ts";

/** A plugin in its (staged) folder. */
export interface Placed {
  /** The folder it was placed in. */
  readonly dir: string;
  /** The file that runs: an executable, or a TypeScript plugin's bundle (run on the host's Node). */
  readonly artifact: string;
  /** Its package manifest (handshake, args, engines), when it has one. */
  readonly pkg: PackageManifest | undefined;
  /** Built here from source (a bundle or a Go build), rather than a publisher's own file. */
  readonly built: boolean;
}

/**
 * Copies what was fetched into `dir` (created; it must not exist). An executable becomes
 * `dir/<its name>`; a folder is copied whole. A TypeScript build runs its bundle directly
 * (`entry = "./bundle.mjs"`): its shell launcher would hide the bundle from the check before each
 * start, which must hash the file Node loads.
 */
export async function placeFetched(
  fetched: FetchedSource,
  dir: string,
  plugin: string,
): Promise<Placed> {
  if (fetched.kind === "executable") {
    const artifact = join(dir, basename(fetched.path));
    await cp(fetched.path, artifact);
    await chmod(artifact, 0o755);
    const beside = `${fetched.path}.sig`;
    if (existsSync(beside)) await cp(beside, `${artifact}.sig`);
    return { dir, artifact, pkg: undefined, built: isBuild(join(fetched.path, "..")) };
  }
  // A release repository's history is not part of the plugin.
  await cp(fetched.path, dir, { recursive: true, filter: (from) => basename(from) !== ".git" });
  const built = isBuild(dir);
  if (built && existsSync(join(dir, "bundle.mjs"))) await runBundleDirectly(dir);
  const manifestFile = findPackageManifest(dir);
  if (manifestFile === undefined)
    throw new PluginError(
      "NOT_A_PLUGIN",
      `${fetched.path} has no plugwire.json or plugwire.toml, so nothing says what to run; it was not installed`,
      { plugin, details: { path: fetched.path } },
    );
  const pkg = await readPackageManifest(manifestFile);
  const inside = relative(dir, pkg.entry);
  if (inside.startsWith("..") || inside === "")
    throw new PluginError(
      "NOT_A_PLUGIN",
      `the entry of ${manifestFile} (${pkg.entry}) lies outside the package, so the lock could not vouch for it; it was not installed`,
      { plugin, details: { entry: pkg.entry } },
    );
  if (!existsSync(pkg.entry))
    throw new PluginError(
      "NOT_A_PLUGIN",
      `the entry of ${manifestFile} (${inside}) does not exist; it was not installed`,
      { plugin, details: { entry: pkg.entry } },
    );
  return { dir, artifact: pkg.entry, pkg, built };
}

/** A folder `buildSource` wrote (its `build.json` beside the output). */
export function isBuild(dir: string): boolean {
  return existsSync(join(dir, "build.json"));
}

/** Points a TypeScript build's manifest at its bundle and drops the shell launcher. */
export async function runBundleDirectly(dir: string): Promise<void> {
  const file = join(dir, "plugwire.json");
  if (!existsSync(file)) return;
  const manifest = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  manifest.entry = "./bundle.mjs";
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(join(dir, "plugin"), { force: true });
}
