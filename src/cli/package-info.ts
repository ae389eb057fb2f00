// The installed plugwire package's own facts (version, root folder), found from this module's
// location, so they hold both for the sources and for the compiled dist/ (same depth below root).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package root: the folder that holds package.json, templates/ and proto/. */
export const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

let cached: { readonly name: string; readonly version: string } | undefined;

/** `name` and `version` from the package's package.json. */
export function packageInfo(): { readonly name: string; readonly version: string } {
  cached ??= JSON.parse(readFileSync(`${packageRoot}package.json`, "utf8")) as {
    name: string;
    version: string;
  };
  return cached;
}
