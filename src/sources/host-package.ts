import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The plugwire package this host runs, as plugin builds see it. */
export interface HostPackage {
  /** Its folder (the one with its package.json). */
  readonly root: string;
  /** Whether it runs from its TypeScript sources (inside the repository). */
  readonly fromSource: boolean;
  /** The file `plugwire/<subpath>` maps to. */
  resolve(specifier: string): string;
}

/**
 * The running plugwire package: its root (found from this module's URL, in src/ or dist/) and how
 * `plugwire/<subpath>` maps to a file through its `exports` (TypeScript sources inside the
 * repository, the compiled JavaScript once installed).
 */
export function hostPackage(): HostPackage {
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
