import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, cp, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { PackageManifest } from "../discovery/package-manifest.ts";
import { compileCacheImport } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { runTool, tail } from "./run-tool.ts";

export interface TypeScriptBuildOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Run the dependencies' install scripts (npm's default); off unless the config allows them. */
  allowInstallScripts?: boolean | undefined;
}

/** Files of a build that live outside its source folder (the host's plugwire, siblings), by hash. */
export type ExternalInputs = Record<string, string>;

/**
 * Builds a TypeScript plugin into `out` without touching its folder: copies the source (no
 * node_modules, no .git) to `out/src`, installs its dependencies there (`npm ci` with a lock
 * file, else `npm install`; `--ignore-scripts` unless allowed), bundles the entry with esbuild
 * into `out/bundle.mjs` behind `plugwire/plugin` (so its stdout guard is in place before any
 * dependency runs), writes the launcher `out/plugin`, and removes the copy.
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
  const externals = await bundle({ entry, staged, dir, outfile: join(out, "bundle.mjs"), fail });
  await rm(staged, { recursive: true, force: true });
  // The launcher finds the bundle beside itself, so an installed copy of the build works too.
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const node = [process.execPath, "--enable-source-maps", "--import", compileCacheImport]
    .map(quote)
    .join(" ");
  const extra = pkg.args.map((a) => ` ${quote(a)}`).join("");
  const launcher = join(out, "plugin");
  await writeFile(launcher, `#!/bin/sh\nexec ${node} "$(dirname "$0")/bundle.mjs"${extra} "$@"\n`);
  await chmod(launcher, 0o755);
  return externals;
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
    { cwd: staged, env: npmEnv(), signal: options.signal },
  );
  if (result.code !== 0)
    options.fail(
      `npm ${command}`,
      `exit ${result.code ?? "(not started)"}; fix the dependencies in ${join(options.dir, "package.json")}${locked ? " or its lock file" : ""}`,
      result.output,
    );
}

/** The environment for npm: ours, without what an npm script running us passed down. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (
      !/^npm_(lifecycle|package|command|config_(ignore_scripts|prefix|global|local_prefix))/i.test(
        key,
      )
    )
      env[key] = value;
  return env;
}

async function bundle(options: {
  entry: string;
  staged: string;
  dir: string;
  outfile: string;
  fail: (step: string, message: string, output?: string) => never;
}): Promise<ExternalInputs> {
  const { staged, dir } = options;
  const esbuild = await import("esbuild");
  const host = hostPackage();
  const ownPlugwire = existsSync(join(staged, "node_modules/plugwire/package.json"));
  const within = (path: string, root: string) => path === root || path.startsWith(root + sep);
  // A folder without its own package.json must not inherit a `sideEffects` list from one above
  // the cache (esbuild would drop the entry's bare import): its files keep their side effects.
  const ownPackage = existsSync(join(staged, "package.json"));
  const skip = "plugwire-resolved";
  const plugin: import("esbuild").Plugin = {
    name: "plugwire-sources",
    setup(build) {
      // plugwire itself: the plugin's own copy if its dependencies provide one, else the host's.
      // Imported first by the virtual entry, it always runs (whatever `sideEffects` says).
      build.onResolve({ filter: /^plugwire(\/.*)?$/ }, async (args) => {
        if (args.pluginData === skip) return undefined;
        const first = args.importer === "<stdin>";
        const always = first ? { sideEffects: true } : {};
        if (!ownPlugwire) return { path: host.resolve(args.path), ...always };
        const result = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: skip,
        });
        return result.errors.length > 0 ? { errors: result.errors } : { ...result, ...always };
      });
      build.onResolve({ filter: /^(\.\.?(\/|$)|\/)/ }, async (args) => {
        if (args.pluginData === skip) return undefined;
        // plugwire's own modules keep their side effects (its stdout guard is a bare import).
        if (
          !ownPlugwire &&
          within(args.resolveDir, host.root) &&
          !within(args.resolveDir, staged)
        ) {
          const own = await build.resolve(args.path, {
            kind: args.kind,
            importer: args.importer,
            resolveDir: args.resolveDir,
            pluginData: skip,
          });
          return own.errors.length > 0 ? { errors: own.errors } : { ...own, sideEffects: true };
        }
        if (!within(args.resolveDir, staged)) return undefined;
        // A relative import that leaves the copied folder means a file beside the source folder
        // (a shared module in a monorepo): bundle it from where it is.
        const leaves = !within(resolve(args.resolveDir, args.path), staged);
        if (!leaves && ownPackage) return undefined;
        const result = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: leaves ? join(dir, relative(staged, args.resolveDir)) : args.resolveDir,
          pluginData: skip,
        });
        if (result.errors.length > 0) return { errors: result.errors };
        return leaves ? result : { ...result, sideEffects: true };
      });
    },
  };
  let result: import("esbuild").BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      stdin: {
        // plugwire/plugin first: its stdout guard is installed before any of the plugin's modules.
        contents: `import "plugwire/plugin";\nimport ${JSON.stringify(options.entry)};\n`,
        resolveDir: staged,
        sourcefile: "plugwire-entry.js",
        loader: "js",
      },
      absWorkingDir: staged,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      sourcemap: true,
      outfile: options.outfile,
      conditions: host.fromSource ? ["plugwire-source"] : [],
      // CommonJS dependencies that require() Node's modules need a require in an ES module.
      banner: {
        js: 'import { createRequire as __plugwireCreateRequire } from "node:module";\nconst require = __plugwireCreateRequire(import.meta.url);',
      },
      metafile: true,
      logLevel: "silent",
      plugins: [plugin],
    });
  } catch (error) {
    // One line per error, naming the file as the author knows it (not its staging copy).
    const errors = (error as { errors?: import("esbuild").Message[] }).errors ?? [];
    const text =
      errors
        .map((e) => {
          const at = e.location;
          const where =
            at === null
              ? ""
              : `${isAbsolute(at.file) ? at.file : join(dir, at.file)}:${at.line}:${at.column}: `;
          return `${where}ERROR: ${e.text}`.split(staged).join(dir);
        })
        .join("\n") || String(error);
    return options.fail("esbuild", "the entry does not bundle", text);
  }
  const externals: ExternalInputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(staged, input.replace(/^[a-z-]+:/, ""));
    if (within(path, staged) || !existsSync(path)) continue;
    externals[path] = fileHash(path);
  }
  return externals;
}

export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** True when every file a build took from outside its source folder is unchanged. */
export function externalsUnchanged(externals: ExternalInputs | undefined): boolean {
  if (externals === undefined) return true;
  return Object.entries(externals).every(
    ([path, hash]) => existsSync(path) && fileHash(path) === hash,
  );
}

/**
 * The running plugwire package: its root (found from this module's URL, in src/ or dist/) and how
 * `plugwire/<subpath>` maps to a file through its `exports` (TypeScript sources inside the
 * repository, the compiled JavaScript once installed).
 */
function hostPackage(): {
  root: string;
  fromSource: boolean;
  resolve: (specifier: string) => string;
} {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  let root = dirname(here);
  for (;;) {
    const file = join(root, "package.json");
    if (existsSync(file) && JSON.parse(readFileSync(file, "utf8")).name === "plugwire") break;
    const up = dirname(root);
    if (up === root) throw new Error(`cannot find plugwire's package.json above ${here}`);
    root = up;
  }
  const exports = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).exports as Record<
    string,
    Record<string, string>
  >;
  return {
    root,
    fromSource,
    resolve(specifier) {
      const subpath = `.${specifier.slice("plugwire".length)}`;
      const target = exports[subpath];
      const file = target?.[fromSource ? "plugwire-source" : "default"];
      if (file === undefined)
        throw new Error(
          `plugwire has no export ${JSON.stringify(specifier)} (it exports ${Object.keys(exports).join(", ")})`,
        );
      return join(root, file);
    },
  };
}
