import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { PluginError } from "../errors/plugin-error.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { PluginManifest, ProviderInfo } from "../providers/manifest.ts";
import type { Engines } from "../versions/engines.ts";
import { parseEngines } from "../versions/engines.ts";

/** File names of a plugin package's manifest, in the order they are looked for. */
export const packageManifestNames = ["plugwire.json", "plugwire.toml"] as const;

/**
 * A plugin package: a folder holding a manifest that names its entry and what it provides.
 *
 * ```toml
 * id = "example.greeter"
 * name = "greeter"
 * version = "1.2.0"
 * entry = "main.ts"            # an executable, or a .ts/.js file run with the host's Node
 * services = ["example.v1.Greeter"]
 * [handshake]
 * magic_cookie_key = "EXAMPLE_PLUGIN"
 * magic_cookie_value = "hello"
 * protocol_version = 1
 * [engines]                    # what the plugin supports (checkCompatibility); optional
 * myapp = "^2"
 * [[providers]]
 * name = "greet"
 * description = "Says hello"
 * ```
 */
export interface PackageManifest {
  /** The folder. */
  readonly dir: string;
  /** The manifest file. */
  readonly file: string;
  /** Absolute path of the entry. */
  readonly entry: string;
  readonly args: readonly string[];
  /** The handshake the entry expects; undefined means the host's. */
  readonly handshake: HandshakeConfig | undefined;
  readonly versions: readonly number[] | undefined;
  /** `engines`: name → semver range the plugin supports (see `checkCompatibility`). */
  readonly engines: Engines | undefined;
  readonly manifest: PluginManifest;
}

/** Finds the manifest file of a package folder, if any. */
export function findPackageManifest(dir: string): string | undefined {
  for (const name of packageManifestNames) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Reads and checks a package manifest; errors name the file and the key. */
export async function readPackageManifest(file: string): Promise<PackageManifest> {
  const dir = resolve(file, "..");
  const text = await readFile(file, "utf8");
  let raw: unknown;
  try {
    raw = file.endsWith(".toml") ? parseToml(text) : JSON.parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? `:${error.line}:${error.column}` : "";
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}${where}: not valid ${file.endsWith(".toml") ? "TOML" : "JSON"}: ${(error as Error).message.split("\n")[0]}`,
      { cause: error, details: { file } },
    );
  }
  const data = camelKeys(raw, 1) as Record<string, unknown>;
  const bad = (key: string, expected: string): never => {
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}: key \`${key}\` must be ${expected}, got ${JSON.stringify(data[key])}`,
      { details: { file, key } },
    );
  };
  const str = (key: string, fallback = ""): string => {
    const value = data[key];
    if (value === undefined) return fallback;
    return typeof value === "string" ? value : bad(key, "a string");
  };
  const strings = (key: string): string[] => {
    const value = data[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
      return bad(key, "an array of strings");
    return value as string[];
  };
  const entryText = str("entry");
  if (entryText === "") bad("entry", "the path of the plugin's executable or script");
  const entry = isAbsolute(entryText) ? entryText : join(dir, entryText);
  const id = str("id", basename(dir));
  let handshake: HandshakeConfig | undefined;
  if (data.handshake !== undefined) {
    const h = camelKeys(data.handshake, 1) as Record<string, unknown>;
    if (typeof h.magicCookieKey !== "string" || typeof h.magicCookieValue !== "string")
      bad("handshake", "a table with magic_cookie_key and magic_cookie_value strings");
    handshake = {
      magicCookieKey: h.magicCookieKey as string,
      magicCookieValue: h.magicCookieValue as string,
      protocolVersion: typeof h.protocolVersion === "number" ? h.protocolVersion : 1,
    };
  }
  const versions = data.versions;
  if (
    versions !== undefined &&
    (!Array.isArray(versions) || versions.some((v) => !Number.isInteger(v)))
  )
    bad("versions", "an array of integers");
  const providers = data.providers ?? [];
  if (!Array.isArray(providers)) bad("providers", "an array of tables");
  return {
    dir,
    file,
    entry,
    args: strings("args"),
    handshake,
    versions: versions as number[] | undefined,
    engines: parseEngines(data.engines, file),
    manifest: {
      id,
      name: str("name", id),
      version: str("version"),
      author: str("author"),
      description: str("description"),
      services: strings("services"),
      providers: (providers as unknown[]).map((p) =>
        providerFromFile(camelKeys(p, 1) as Record<string, unknown>),
      ),
      origin: "package",
    },
  };
}

function providerFromFile(p: Record<string, unknown>): ProviderInfo {
  return {
    name: String(p.name ?? ""),
    description: String(p.description ?? ""),
    version: String(p.version ?? ""),
    inputSchema: p.inputSchema,
    outputSchema: p.outputSchema,
    capabilities: Array.isArray(p.capabilities) ? p.capabilities.map(String) : [],
    labels: (p.labels as Record<string, string> | undefined) ?? {},
  };
}

/**
 * `magic_cookie_key` → `magicCookieKey` (TOML style to TS style) for `depth` levels of tables;
 * deeper values (schemas, settings) are left as written.
 */
export function camelKeys(value: unknown, depth: number): unknown {
  if (depth <= 0 || Array.isArray(value)) return value;
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      camelKeys(v, depth - 1),
    ]),
  );
}

/**
 * Preloaded before a script plugin's entry: Node's compile cache keeps stripped and compiled
 * modules between starts, about half a TypeScript plugin's start-up (docs/performance.md).
 */
export const compileCacheImport =
  "data:text/javascript,import{enableCompileCache}from'node:module';enableCompileCache()";

/** The command that runs an entry: scripts run on the host's own Node, with the compile cache. */
export function entryCommand(
  entry: string,
  args: readonly string[] = [],
): { cmd: string; args: string[] } {
  if (/\.(m?ts|m?js|cjs|cts)$/.test(entry))
    return { cmd: process.execPath, args: ["--import", compileCacheImport, entry, ...args] };
  return { cmd: entry, args: [...args] };
}
