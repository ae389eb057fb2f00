import { existsSync } from "node:fs";
import { join } from "node:path";
import { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";
import { buildSource, sourceLanguage } from "./build-source.ts";

/** A folder's plugin, ready to place. */
export interface FolderArtifact {
  readonly kind: "executable" | "folder";
  readonly path: string;
  readonly executable: string;
}

/**
 * What a folder gives: a prebuilt package (a manifest whose entry is not TypeScript or
 * JavaScript) as it is; a source (Go, TypeScript) built into the cache. A Go build without a
 * manifest is a bare executable; any other build is its folder with the manifest and launcher.
 */
export async function folderArtifact(
  dir: string,
  options: {
    cacheDir: string;
    signal?: AbortSignal | undefined;
    onProgress?: ((line: string) => void) | undefined;
    allowScripts?: boolean | undefined;
    env?: NodeJS.ProcessEnv | undefined;
  },
): Promise<FolderArtifact> {
  const manifestFile = findPackageManifest(dir);
  const pkg = manifestFile === undefined ? undefined : await readPackageManifest(manifestFile);
  const language = sourceLanguage(dir);
  if (pkg !== undefined && language !== "go" && !/\.(m|c)?[jt]s$/.test(pkg.entry))
    return { kind: "folder", path: dir, executable: pkg.entry };
  const built = await buildSource(dir, {
    cacheDir: options.cacheDir,
    signal: options.signal,
    onProgress: options.onProgress,
    allowInstallScripts: options.allowScripts === true,
    env: options.env,
  });
  const folder = join(built.executable, "..");
  if (!existsSync(join(folder, "plugwire.json")))
    return { kind: "executable", path: built.executable, executable: built.executable };
  return { kind: "folder", path: folder, executable: built.executable };
}
