import type { Plugin } from "esbuild";

const namespace = "plugwire-deferred-serve";
const real = "plugwire-real-serve:";

/** The key of the hook a snapshot's builder script installs (snapshot.ts `builderScript`). */
export const deferServeKey = "plugwire.snapshotServe";

/**
 * For a snapshot's builder script: plugwire's `serve()` (src/plugin/serve/serve.ts, or the
 * compiled serve.js of a plugin's own copy) is bundled behind a module that exports everything
 * the real one does, with `serve` replaced: while V8 builds the snapshot it only records the
 * call, and the snapshot's deserialize-main runs it, so the cookie, the environment, the listener
 * and stdout are the started process's. The plugin's `await serve(...)` resumes in that process.
 */
export function deferServe(): Plugin {
  return {
    name: "plugwire-defer-serve",
    setup(build) {
      build.onResolve({ filter: /^plugwire-real-serve:/ }, (args) => ({
        path: args.path.slice(real.length),
        sideEffects: true,
      }));
      build.onResolve({ filter: /(^|\/)serve(\.[cm]?[jt]s)?$/ }, async (args) => {
        // A resolve asked for by a plugin (this one, or bundle.ts's sources plugin) is theirs.
        if (args.pluginData !== undefined) return undefined;
        const found = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: namespace,
        });
        if (found.errors.length > 0 || !/[\\/]plugin[\\/]serve[\\/]serve\.[jt]s$/.test(found.path))
          return undefined;
        return { path: found.path, namespace, sideEffects: true };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => {
        const from = JSON.stringify(real + args.path);
        return {
          contents: `import { serve as serveNow } from ${from};
export * from ${from};
export function serve(options) {
  const hook = globalThis[Symbol.for(${JSON.stringify(deferServeKey)})];
  return hook === undefined ? serveNow(options) : hook(() => serveNow(options));
}`,
          loader: "js",
        };
      });
    },
  };
}
