import semver from "semver";
import { PluginError } from "../errors/plugin-error.ts";

/**
 * What a plugin supports, `engines`-style: a name (`plugwire`, or an application such as `myapp`)
 * → a semver range. Declared in a package manifest, `plugwire.json` `"engines": {"myapp": "^2"}`
 * or `plugwire.toml` `[engines] myapp = "^2"`.
 */
export type Engines = Readonly<Record<string, string>>;

/** What the host is: a name → its version (`{ myapp: "2.3.0", plugwire: "0.1.0" }`). */
export type HostVersions = Readonly<Record<string, string>>;

/** Why a plugin cannot run on this host; the discovery skip reason is `incompatible`. */
export interface Incompatibility {
  readonly reason: "incompatible";
  /** One line naming the plugin, what it supports and what the host is. */
  readonly message: string;
  readonly engine: string;
  readonly range: string;
  /** The host's version of `engine`; undefined when the host does not declare it. */
  readonly host: string | undefined;
}

/**
 * Checks a plugin's `engines` against what the host declares. Undefined: compatible. An engine
 * the host does not declare is a mismatch only when `strict` (a plugin written for `otherapp` is
 * not refused by a host that says nothing about `otherapp`, unless it asks).
 */
export function checkCompatibility(
  manifest: { readonly id: string; readonly engines?: Engines | undefined },
  host: HostVersions,
  options: { readonly strict?: boolean | undefined } = {},
): Incompatibility | undefined {
  for (const [engine, range] of Object.entries(manifest.engines ?? {}).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const version = host[engine];
    if (version === undefined) {
      if (options.strict === true)
        return {
          reason: "incompatible",
          engine,
          range,
          host: undefined,
          message: `plugin ${manifest.id} needs ${engine} ${range}, and this host does not say which ${engine} it is`,
        };
      continue;
    }
    if (!semver.satisfies(version, range, { includePrerelease: true }))
      return {
        reason: "incompatible",
        engine,
        range,
        host: version,
        message: `plugin ${manifest.id} supports ${engine} ${range}, this host is ${engine} ${version}: install a version of the plugin built for ${engine} ${version}`,
      };
  }
  return undefined;
}

/**
 * Reads an `engines` value from a package manifest; errors are `CONFIG_INVALID` naming the file
 * and the engine.
 */
export function parseEngines(value: unknown, file: string): Engines | undefined {
  if (value === undefined) return undefined;
  const fail = (why: string): never => {
    throw new PluginError("CONFIG_INVALID", `${file}: key \`engines\`: ${why}`, {
      details: { file, key: "engines" },
    });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail(`expected a table of name = "semver range", got ${JSON.stringify(value)}`);
  const out: Record<string, string> = {};
  for (const [name, range] of Object.entries(value)) {
    if (typeof range !== "string" || semver.validRange(range) === null)
      fail(
        `${name} = ${JSON.stringify(range)} is not a semver range (write e.g. "^2", ">=1.4 <3")`,
      );
    out[name] = range as string;
  }
  return out;
}

/**
 * Throws `PLUGIN_INCOMPATIBLE` (the incompatibility's one line, with the ranges) unless the
 * plugin's `engines` accept this host; discovery turns it into an `incompatible` skip.
 */
export function requireCompatible(
  manifest: { readonly id: string; readonly engines?: Engines | undefined },
  host: HostVersions,
  options: { readonly strict?: boolean | undefined } = {},
): void {
  const problem = checkCompatibility(manifest, host, options);
  if (problem !== undefined)
    throw new PluginError("PLUGIN_INCOMPATIBLE", problem.message, {
      plugin: manifest.id,
      details: { engine: problem.engine, range: problem.range, host: problem.host },
    });
}
