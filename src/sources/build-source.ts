import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";
import { readSnapshotRecord, sameNode } from "../discovery/snapshot-record.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { ExternalInputs } from "./bundle.ts";
import { externalsUnchanged } from "./bundle.ts";
import { contentHash } from "./content-hash.ts";
import { runTool, tail } from "./run-tool.ts";
import { buildTypeScript } from "./typescript-build.ts";

export type SourceLanguage = "go" | "typescript";

export interface BuildOptions {
  /** Where builds are kept, one folder per content hash. */
  cacheDir: string;
  signal?: AbortSignal | undefined;
  /** Progress lines for long steps (`building go plugin ...`). */
  onProgress?: ((message: string) => void) | undefined;
  /**
   * TypeScript: run the dependencies' install scripts. Default false (`npm --ignore-scripts`).
   * Part of the cache key.
   */
  allowInstallScripts?: boolean | undefined;
  /** TypeScript: an `.npmrc` to install the dependencies with (the host project's registry settings). */
  npmrc?: string | undefined;
  /** The environment the build tools run with. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface BuildResult {
  /** The executable to start. */
  readonly executable: string;
  readonly hash: string;
  readonly language: SourceLanguage;
  /** True when an earlier build of the same content was reused. */
  readonly cached: boolean;
}

/** Which kind of plugin source a folder holds, if any. */
export function sourceLanguage(dir: string): SourceLanguage | undefined {
  if (existsSync(join(dir, "go.mod"))) return "go";
  const manifest = findPackageManifest(dir);
  if (manifest !== undefined) return "typescript";
  return undefined;
}

/**
 * Builds a plugin's source folder into the cache, keyed by the content hash: the same source is
 * built once; any change builds again. Go: `go build`. TypeScript: dependencies installed and
 * the entry bundled in a copy under the cache (`typescript-build.ts`), then a launcher runs the
 * bundle on this Node. A failed build leaves nothing behind.
 */
export async function buildSource(source: string, options: BuildOptions): Promise<BuildResult> {
  const dir = resolve(source);
  const language = sourceLanguage(dir);
  if (language === undefined)
    throw new PluginError(
      "BUILD_FAILED",
      `${dir} is not a plugin source folder: it has neither go.mod (Go) nor plugwire.json/plugwire.toml (TypeScript)`,
      { details: { dir } },
    );
  let hash = await contentHash(dir);
  if (language === "typescript" && options.allowInstallScripts === true)
    hash = createHash("sha256").update(`${hash}\0install-scripts`).digest("hex");
  hash = hash.slice(0, 32);
  const out = resolve(options.cacheDir, "builds", hash);
  const executable = join(out, "plugin");
  if (await reusable(out)) return { executable, hash, language, cached: true };
  const staging = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    let externals: ExternalInputs | undefined;
    if (language === "go") await buildGo(dir, staging, options);
    else {
      const pkg = await readPackageManifest(findPackageManifest(dir)!);
      externals = await buildTypeScript(pkg, staging, options);
    }
    await writeBuiltManifest(dir, staging);
    await writeFile(
      join(staging, "build.json"),
      `${JSON.stringify({ source: dir, hash, language, builtAt: new Date().toISOString(), externals }, null, 2)}\n`,
    );
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { executable, hash, language, cached: false };
}

async function buildGo(dir: string, out: string, options: BuildOptions): Promise<void> {
  options.onProgress?.(`building Go plugin in ${dir} (go build)`);
  const result = await runTool("go", ["build", "-trimpath", "-o", join(out, "plugin"), "."], {
    cwd: dir,
    env: {
      ...(options.env ?? process.env),
      GOFLAGS: "-mod=mod",
      CGO_ENABLED: (options.env ?? process.env).CGO_ENABLED ?? "0",
    },
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new PluginError(
      "BUILD_FAILED",
      `go build failed in ${dir} (exit ${result.code}):\n${tail(result.output)}`,
      { details: { dir, output: result.output } },
    );
}

/**
 * A finished build of this content, whose files from outside the source folder (the host's
 * plugwire, shared modules) are unchanged too.
 */
async function reusable(out: string): Promise<boolean> {
  const file = join(out, "build.json");
  if (!existsSync(file)) return false;
  // A startup snapshot runs only on the node that built it: after a node upgrade the build is
  // made again (the bundle comes out the same, the lock still holds), not left on its bundle.
  const snapshot = readSnapshotRecord(join(out, "bundle.mjs"));
  if (snapshot !== undefined && !sameNode(snapshot)) return false;
  try {
    const build = JSON.parse(await readFile(file, "utf8")) as { externals?: ExternalInputs };
    return externalsUnchanged(build.externals);
  } catch {
    return false;
  }
}

/** The package manifest of a build: the source's, pointing at the built executable (`./plugin`). */
export async function writeBuiltManifest(dir: string, out: string): Promise<void> {
  const file = findPackageManifest(dir);
  if (file === undefined) return;
  const pkg = await readPackageManifest(file);
  const built = {
    id: pkg.manifest.id,
    name: pkg.manifest.name,
    version: pkg.manifest.version,
    author: pkg.manifest.author,
    description: pkg.manifest.description,
    entry: "./plugin",
    services: pkg.manifest.services,
    providers: pkg.manifest.providers,
    handshake: pkg.handshake,
    versions: pkg.versions,
  };
  await writeFile(
    join(out, "plugwire.json"),
    `${JSON.stringify(built, null, 2)}
`,
  );
}
