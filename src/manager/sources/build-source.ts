import { existsSync } from "node:fs";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PluginError } from "../../errors/plugin-error.ts";
import {
  compileCacheImport,
  findPackageManifest,
  readPackageManifest,
} from "../package-manifest.ts";
import { contentHash, listFiles } from "./content-hash.ts";
import { runTool, tail } from "./run-tool.ts";

export type SourceLanguage = "go" | "typescript";

export interface BuildOptions {
  /** Where builds are kept, one folder per content hash. */
  cacheDir: string;
  signal?: AbortSignal | undefined;
  /** Progress lines for long steps (`building go plugin ...`). */
  onProgress?: ((message: string) => void) | undefined;
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
 * built once; any change builds again. Go: `go build`. TypeScript: every `.ts` file is checked
 * to strip cleanly, then a launcher runs the manifest's entry on this Node.
 */
export async function buildSource(dir: string, options: BuildOptions): Promise<BuildResult> {
  const language = sourceLanguage(dir);
  if (language === undefined)
    throw new PluginError(
      "BUILD_FAILED",
      `${dir} is not a plugin source folder: it has neither go.mod (Go) nor plugwire.json/plugwire.toml (TypeScript)`,
      { details: { dir } },
    );
  const hash = (await contentHash(dir)).slice(0, 32);
  const out = join(options.cacheDir, "builds", hash);
  const executable = join(out, "plugin");
  if (existsSync(join(out, "build.json"))) return { executable, hash, language, cached: true };
  const staging = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    if (language === "go") await buildGo(dir, staging, options);
    else await buildTypeScript(dir, staging, options);
    await writeBuiltManifest(dir, staging);
    await writeFile(
      join(staging, "build.json"),
      `${JSON.stringify({ source: dir, hash, language, builtAt: new Date().toISOString() }, null, 2)}\n`,
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
  const result = await runTool("go", ["build", "-o", join(out, "plugin"), "."], {
    cwd: dir,
    env: { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: process.env.CGO_ENABLED ?? "0" },
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new PluginError(
      "BUILD_FAILED",
      `go build failed in ${dir} (exit ${result.code}):\n${tail(result.output)}`,
      { details: { dir, output: result.output } },
    );
}

async function buildTypeScript(dir: string, out: string, options: BuildOptions): Promise<void> {
  const file = findPackageManifest(dir)!;
  const pkg = await readPackageManifest(file);
  if (!existsSync(pkg.entry))
    throw new PluginError("BUILD_FAILED", `${file}: entry ${pkg.entry} does not exist`, {
      details: { dir },
    });
  options.onProgress?.(`checking TypeScript plugin in ${dir}`);
  const sources = (await listFiles(dir)).filter(
    (f) => /\.(m|c)?ts$/.test(f) && !f.endsWith(".d.ts"),
  );
  // Strip types in a child Node, so a syntax error names its file and the host sees no warnings.
  const check = await runTool(
    process.execPath,
    [
      "--no-warnings",
      "--input-type=module",
      "-e",
      `import { stripTypeScriptTypes } from "node:module";
       import { readFileSync } from "node:fs";
       let bad = 0;
       for (const f of process.argv.slice(1)) {
         try { stripTypeScriptTypes(readFileSync(f, "utf8")); }
         catch (e) { bad++; console.error(f + ": " + e.message); }
       }
       process.exit(bad ? 1 : 0);`,
      ...sources,
    ],
    { signal: options.signal },
  );
  if (check.code !== 0)
    throw new PluginError(
      "BUILD_FAILED",
      `TypeScript plugin in ${dir} does not compile:\n${tail(check.output)}`,
      { details: { dir, output: check.output } },
    );
  const args = ["--import", compileCacheImport, pkg.entry, ...pkg.args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const launcher = join(out, "plugin");
  await writeFile(launcher, `#!/bin/sh\nexec '${process.execPath}' ${args} "$@"\n`);
  await chmod(launcher, 0o755);
}

/** The package manifest of a build: the source's, pointing at the built executable. */
async function writeBuiltManifest(dir: string, out: string): Promise<void> {
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
