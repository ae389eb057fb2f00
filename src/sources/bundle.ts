import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { BuildResult, Message, Plugin } from "esbuild";
import { builtinsAsRequire } from "./builtins-as-require.ts";
import { deferServe } from "./defer-serve.ts";
import type { HostPackage } from "./host-package.ts";
import { hostPackage } from "./host-package.ts";

/** Files of a build that live outside its source folder (the host's plugwire, siblings), by hash. */
export type ExternalInputs = Record<string, string>;

export interface BundleOptions {
  /** The entry module (in the staged copy, or outside it). */
  entry: string;
  /** The staged copy of the source folder, dependencies installed. */
  staged: string;
  /** The source folder as the author knows it, for messages and files beside it. */
  dir: string;
  outfile: string;
  /**
   * Node's modules through `require()` rather than `import` (builtins-as-require.ts). Default
   * true; false only to measure what it is worth (bench/fixture/variants.ts).
   */
  builtinsAsRequire?: boolean | undefined;
  /**
   * `module` (default): an ES module run by `node FILE`. `snapshot`: the body of a V8 startup
   * snapshot's builder script (snapshot.ts wraps it): no imports, `import.meta.url` read from
   * `__plugwireUrl`, and serve() deferred to the snapshot's deserialization.
   */
  form?: "module" | "snapshot" | undefined;
  fail: (step: string, message: string, output?: string) => never;
}

/**
 * Bundles the staged entry with esbuild behind `plugwire/plugin` (its stdout guard is installed
 * before any of the plugin's modules run). Returns the files it took from outside the staged
 * copy, by hash, so a change to them rebuilds the plugin.
 */
export async function bundle(options: BundleOptions): Promise<ExternalInputs> {
  const { staged, dir } = options;
  const esbuild = await import("esbuild");
  const host = hostPackage();
  const snapshot = options.form === "snapshot";
  let result: BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      stdin: {
        // plugwire/plugin first: its stdout guard is installed before any of the plugin's modules.
        contents: `import "plugwire/plugin";\nimport ${JSON.stringify(options.entry)};\n`,
        resolveDir: staged,
        sourcefile: entryFile,
        loader: "js",
      },
      absWorkingDir: staged,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      sourcemap: !snapshot,
      // No module paths in the output (`// path` comments, CommonJS wrappers' keys): they are
      // relative to the cache, and the lock's SHA-256 of the bundle must not depend on where the
      // cache is. Names are kept (`keepNames`); the source map maps back to the sources.
      minifyWhitespace: true,
      minifyIdentifiers: true,
      keepNames: true,
      outfile: options.outfile,
      conditions: host.fromSource ? ["plugwire-source"] : [],
      // CommonJS dependencies that require() Node's modules need a require in an ES module (a
      // snapshot's builder script has its own).
      banner: snapshot ? {} : { js: requireBanner },
      ...(snapshot ? { define: { "import.meta.url": "__plugwireUrl" } } : {}),
      metafile: true,
      logLevel: "silent",
      plugins: [
        ...(snapshot ? [deferServe()] : []),
        sourcesPlugin(staged, dir, host),
        // A snapshot's builder script has no imports: every builtin comes through require().
        ...(options.builtinsAsRequire === false && !snapshot ? [] : [builtinsAsRequire()]),
      ],
    });
  } catch (error) {
    return options.fail("esbuild", "the entry does not bundle", buildErrors(error, staged, dir));
  }
  const externals: ExternalInputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(staged, input.replace(/^[a-z-]+:/, ""));
    if (within(path, staged) || !existsSync(path)) continue;
    externals[path] = fileHash(path);
  }
  return externals;
}

const requireBanner =
  'import { createRequire as __plugwireCreateRequire } from "node:module";\nconst require = __plugwireCreateRequire(import.meta.url);';

const within = (path: string, root: string) => path === root || path.startsWith(root + sep);

/** The virtual entry's name: esbuild reports it as the importer `<resolveDir>/plugwire-entry.js`. */
const entryFile = "plugwire-entry.js";
const fromEntry = (importer: string) => importer === "<stdin>" || basename(importer) === entryFile;

/** Marks a resolve the plugin asked esbuild for itself, so the plugin does not see it again. */
const skip = "plugwire-resolved";

/**
 * How the staged copy's imports resolve: `plugwire` to the plugin's own copy, if its dependencies
 * provide one, else the host's; files beside the source folder from where they are; and side
 * effects kept where esbuild would drop them.
 */
function sourcesPlugin(staged: string, dir: string, host: HostPackage): Plugin {
  const ownPlugwire = existsSync(join(staged, "node_modules/plugwire/package.json"));
  // A folder without its own package.json must not inherit a `sideEffects` list from one above
  // the cache (esbuild would drop the entry's bare import): its files keep their side effects.
  const ownPackage = existsSync(join(staged, "package.json"));
  return {
    name: "plugwire-sources",
    setup(build) {
      const again = (
        args: { path: string; kind: import("esbuild").ImportKind; importer: string },
        resolveDir: string,
      ) =>
        build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir,
          pluginData: skip,
        });
      // plugwire itself: the plugin's own copy if its dependencies provide one, else the host's.
      // Imported first by the virtual entry, it always runs (whatever `sideEffects` says).
      build.onResolve({ filter: /^plugwire(\/.*)?$/ }, async (args) => {
        if (args.pluginData === skip) return undefined;
        const first = fromEntry(args.importer);
        const always = first ? { sideEffects: true } : {};
        if (!ownPlugwire) return { path: host.resolve(args.path), ...always };
        const result = await again(args, args.resolveDir);
        return result.errors.length > 0 ? { errors: result.errors } : { ...result, ...always };
      });
      build.onResolve({ filter: /^(\.\.?(\/|$)|\/)/ }, async (args) => {
        if (args.pluginData === skip) return undefined;
        // The entry itself always runs, whatever a package.json's `sideEffects` says of it.
        if (fromEntry(args.importer)) {
          const entry = await again(args, args.resolveDir);
          return entry.errors.length > 0
            ? { errors: entry.errors }
            : { ...entry, sideEffects: true };
        }
        // plugwire's own modules keep their side effects (its stdout guard is a bare import).
        if (
          !ownPlugwire &&
          within(args.resolveDir, host.root) &&
          !within(args.resolveDir, staged)
        ) {
          const own = await again(args, args.resolveDir);
          return own.errors.length > 0 ? { errors: own.errors } : { ...own, sideEffects: true };
        }
        if (!within(args.resolveDir, staged)) return undefined;
        // A relative import that leaves the copied folder means a file beside the source folder
        // (a shared module in a monorepo): bundle it from where it is.
        const leaves = !within(resolve(args.resolveDir, args.path), staged);
        if (!leaves && ownPackage) return undefined;
        const result = await again(
          args,
          leaves ? join(dir, relative(staged, args.resolveDir)) : args.resolveDir,
        );
        if (result.errors.length > 0) return { errors: result.errors };
        return leaves ? result : { ...result, sideEffects: true };
      });
    },
  };
}

/** One line per error, naming the file as the author knows it (not its staging copy). */
function buildErrors(error: unknown, staged: string, dir: string): string {
  const errors = (error as { errors?: Message[] }).errors ?? [];
  return (
    errors
      .map((e) => {
        const at = e.location;
        const where =
          at === null
            ? ""
            : `${isAbsolute(at.file) ? at.file : join(dir, at.file)}:${at.line}:${at.column}: `;
        return `${where}ERROR: ${e.text}`.split(staged).join(dir);
      })
      .join("\n") || String(error)
  );
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
