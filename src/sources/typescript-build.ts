import { existsSync } from "node:fs";
import { chmod, cp, readFile, rm, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative } from "node:path";
import type { PackageManifest } from "../discovery/package-manifest.ts";
import { compileCacheImport } from "../discovery/package-manifest.ts";
import type { SnapshotRecord } from "../discovery/snapshot-record.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { ExternalInputs } from "./bundle.ts";
import { bundle } from "./bundle.ts";
import { runTool, tail } from "./run-tool.ts";
import { buildSnapshot, launcherScript } from "./snapshot.ts";

export interface TypeScriptBuildOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Run the dependencies' install scripts (npm's default); off unless the config allows them. */
  allowInstallScripts?: boolean | undefined;
  /** An `.npmrc` copied beside the staged package.json for the install (registry settings). */
  npmrc?: string | undefined;
  /** The environment npm runs with. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * Also build a V8 startup snapshot of the bundle (snapshot.ts), which the launcher and the
   * lock's launch start from while this node runs them. Default true; a plugin opts out with
   * `"plugwire": { "snapshot": false }` in its package.json.
   */
  snapshot?: boolean | undefined;
}

/**
 * Builds a TypeScript plugin into `out` without touching its folder: copies the source (no
 * node_modules, no .git) to `out/src`, installs its dependencies there (`npm ci` with a lock
 * file, else `npm install`; `--ignore-scripts` unless allowed), bundles the entry with esbuild
 * into `out/bundle.mjs` behind `plugwire/plugin` (so its stdout guard is in place before any
 * dependency runs), builds its startup snapshot `out/bundle.snapshot.blob` when it can
 * (snapshot.ts), writes the launcher `out/plugin`, and removes the copy.
 */
export async function buildTypeScript(
  pkg: PackageManifest,
  out: string,
  options: TypeScriptBuildOptions,
): Promise<ExternalInputs> {
  const { dir } = pkg;
  const name = pkg.manifest.id;
  const fail = (step: string, message: string, output = ""): never => {
    throw new PluginError(
      "BUILD_FAILED",
      `${step} failed for the source in ${dir}: ${message}${output === "" ? "" : `\n${tail(output)}`}`,
      { plugin: name, details: { dir, step, output } },
    );
  };
  if (!existsSync(pkg.entry)) fail("build", `the entry ${pkg.entry} does not exist`);
  const staged = join(out, "src");
  await cp(dir, staged, {
    recursive: true,
    filter: (from) => !["node_modules", ".git"].includes(basename(from)),
  });
  await installDependencies(staged, { ...options, fail, dir });
  const inside = relative(dir, pkg.entry);
  const entry = inside.startsWith("..") || isAbsolute(inside) ? pkg.entry : join(staged, inside);
  options.onProgress?.(`bundling ${name} (esbuild)`);
  const outfile = join(out, "bundle.mjs");
  const externals = await bundle({ entry, staged, dir, outfile, fail });
  let record: SnapshotRecord | undefined;
  if (options.snapshot !== false && (await snapshotWanted(staged))) {
    options.onProgress?.(`building ${name}'s startup snapshot (node --build-snapshot)`);
    const built = await buildSnapshot({ entry, staged, dir, fail }, outfile);
    if (built.ok) record = built.record;
    else
      options.onProgress?.(
        `no startup snapshot for ${name}, it starts from its bundle: ${built.reason}`,
      );
  }
  await rm(staged, { recursive: true, force: true });
  // The launcher finds the bundle beside itself, so an installed copy of the build works too.
  // No --enable-source-maps: Node reads and parses the map at every start, for 4-5 MiB of idle
  // RSS (docs/performance.md, decision 15); NODE_OPTIONS=--enable-source-maps turns it on.
  const launcher = join(out, "plugin");
  await writeFile(
    launcher,
    launcherScript("bundle.mjs", ["--import", compileCacheImport], pkg.args, record),
  );
  await chmod(launcher, 0o755);
  return externals;
}

/** False when the plugin's package.json says `"plugwire": { "snapshot": false }`. */
async function snapshotWanted(staged: string): Promise<boolean> {
  const manifest = join(staged, "package.json");
  if (!existsSync(manifest)) return true;
  try {
    const pkg = JSON.parse(await readFile(manifest, "utf8")) as {
      plugwire?: { snapshot?: unknown };
    };
    return pkg.plugwire?.snapshot !== false;
  } catch {
    return true;
  }
}

async function installDependencies(
  staged: string,
  options: TypeScriptBuildOptions & {
    fail: (step: string, message: string, output?: string) => never;
    dir: string;
  },
): Promise<void> {
  const manifest = join(staged, "package.json");
  if (!existsSync(manifest)) return;
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(await readFile(manifest, "utf8")) as Record<string, unknown>;
  } catch (error) {
    return options.fail(
      "npm install",
      `package.json is not valid JSON: ${(error as Error).message}`,
    );
  }
  const declares = ["dependencies", "devDependencies", "optionalDependencies"].some(
    (k) => typeof pkg[k] === "object" && pkg[k] !== null && Object.keys(pkg[k]).length > 0,
  );
  if (!declares) return;
  // The host project's registry settings (a scoped registry, its token) apply to the plugin's
  // dependencies too; the copy goes with the staged folder once the bundle is built.
  if (options.npmrc !== undefined) await cp(options.npmrc, join(staged, ".npmrc"));
  const locked = ["package-lock.json", "npm-shrinkwrap.json"].some((f) =>
    existsSync(join(staged, f)),
  );
  const command = locked ? "ci" : "install";
  const scripts = options.allowInstallScripts === true;
  options.onProgress?.(
    `installing dependencies (npm ${command}${scripts ? ", install scripts allowed" : ", --ignore-scripts"})`,
  );
  const result = await runTool(
    process.platform === "win32" ? "npm.cmd" : "npm",
    [
      command,
      scripts ? "--ignore-scripts=false" : "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--no-progress",
      "--no-update-notifier",
    ],
    { cwd: staged, env: npmEnv(options.env), signal: options.signal },
  );
  if (result.code !== 0)
    options.fail(
      `npm ${command}`,
      `exit ${result.code ?? "(not started)"}; fix the dependencies in ${join(options.dir, "package.json")}${locked ? " or its lock file" : ""}`,
      result.output,
    );
}

/** The environment for npm: `base` (ours), without what an npm script running us passed down. */
export function npmEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base))
    if (
      !/^npm_(lifecycle|package|command|config_(ignore_scripts|prefix|global|local_prefix))/i.test(
        key,
      )
    )
      env[key] = value;
  return env;
}
