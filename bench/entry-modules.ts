// What importing one entry of the package loads: its own modules, manager modules among them,
// whether node:http2 came along, and the import time. Run against the compiled package:
//   npm run build && node bench/entry-modules.ts dist/index.js     (or dist/plugin/index.js, …)
import { registerHooks } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    loaded.add(result.url);
    return result;
  },
});
const entry = pathToFileURL(resolve(process.argv[2] ?? "dist/index.js")).href;
const began = performance.now();
await import(entry);
const ms = performance.now() - began;
const own = [...loaded].filter((url) => url.startsWith("file:") && !url.includes("/node_modules/"));
console.log(
  JSON.stringify({
    entry: process.argv[2] ?? "dist/index.js",
    importMs: +ms.toFixed(1),
    modules: own.length,
    managerModules: own.filter((url) => url.includes("/manager/")).length,
    http2: (process as unknown as { moduleLoadList: string[] }).moduleLoadList.some((name) =>
      /NativeModule http2/.test(name),
    ),
  }),
);
