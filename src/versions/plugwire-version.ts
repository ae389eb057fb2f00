// plugwire's own version, the engine every plugin may name (`"engines": {"plugwire": "^0.1"}`).
// Read from the package's package.json, found from this module's location: src/versions/ and
// dist/versions/ sit at the same depth below the package root.
import { readFileSync } from "node:fs";
import { PluginError } from "../errors/plugin-error.ts";
import type { HostVersions } from "./engines.ts";

let cached: string | undefined;

/** The version of the plugwire package this host runs (`0.1.0`). */
export function plugwireVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
  return cached;
}

/**
 * What this host is, for `engines` checks: what it declares (`[manager] host_versions`, e.g.
 * `{ myapp: "2.3.0" }`) plus plugwire's own version, which a host cannot declare otherwise (it is
 * a fact, not a setting). A declared `plugwire` is `CONFIG_INVALID`.
 */
export function hostVersionsWith(declared: HostVersions = {}): HostVersions {
  if (Object.hasOwn(declared, "plugwire"))
    throw new PluginError(
      "CONFIG_INVALID",
      `host_versions names plugwire (${declared.plugwire}), but plugwire's version is its own (${plugwireVersion()}); remove that key`,
    );
  return { ...declared, plugwire: plugwireVersion() };
}
