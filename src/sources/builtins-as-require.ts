import { builtinModules } from "node:module";
import type { Plugin } from "esbuild";

const namespace = "plugwire-builtin";

/**
 * Node's own modules reach the bundle through `require()` instead of `import` statements. An
 * ES module importing a builtin gets a module namespace built from every export of it, which
 * reads each lazy getter (node:crypto's webcrypto, node:stream's web streams…) and loads modules
 * the plugin never uses; `require()` hands over the object as it is, and the bundle reads a
 * property only when the code uses it (docs/performance.md, decision 15). The bundle's banner
 * defines `require` (createRequire), so the output stays an ES module.
 */
export function builtinsAsRequire(): Plugin {
  return {
    name: "plugwire-builtins-as-require",
    setup(build) {
      // Read here rather than at module scope: a startup snapshot's builder (a plugin that
      // imports plugwire/manager bundles this module) has no `builtinModules`.
      const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
      build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        // The shim's own require() stays a call to Node's require at run time.
        if (args.kind === "require-call" || args.namespace === namespace)
          return { path: args.path, external: true };
        return { path: args.path, namespace, sideEffects: false };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: "js",
      }));
    },
  };
}
