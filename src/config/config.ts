import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import semver from "semver";
import { parse as parseToml, TomlError } from "smol-toml";
import type { DiscoveryRun } from "../discovery/candidates.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { HostEnvPolicy } from "../host/start/environment.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { TrustSettings } from "../trust/trust-config.ts";
import { parseTrustSettings } from "../trust/trust-config.ts";
import { checkRange } from "../versions/constraint.ts";
import type { HostVersions } from "../versions/engines.ts";
import type { ConfigReader } from "./config-reader.ts";
import { configReader } from "./config-reader.ts";

/**
 * A host's plugwire.toml, as Reva configures its drivers:
 *
 * ```toml
 * [manager]
 * plugin_dirs = ["plugins"]
 * cache_dir = ".cache/plugwire"
 * start_timeout_ms = 5000
 * discovery = "manifest"          # run only plugin packages found in plugin_dirs (default "all")
 * host_env = ["PATH", "HOME"]     # host variables discovered plugins get (default: all)
 * host_versions = { myapp = "2.3.0" }   # what this host is, for plugins' `engines`
 * [manager.handshake]
 * magic_cookie_key = "USERS_PLUGIN"
 * magic_cookie_value = "users"
 *
 * [services.userprovider]
 * driver = "json"                 # in-process name | ./binary | ./source-dir | git URL
 * ref = "v1.0.0"                  # git only: branch, tag or commit
 * version = "^1.2"                # semver range (resolved by the registry sources; docs/trust.md)
 * allow_install_scripts = false   # TypeScript sources: run the dependencies' install scripts
 * host_env = ["PATH", "AWS_*"]    # host variables this plugin gets (default: all; "none")
 * netrpc_plugin = "userprovider"  # go-plugin's net/rpc protocol: the name the driver serves
 * [services.userprovider.drivers.json]
 * users = "users.json"            # the driver's own settings, handed to it
 *
 * [trust]                         # signatures (docs/trust.md); also [services.<name>.trust]
 * signatures = "required"         # required | if-present (default) | off
 * trusted_keys = ["keys/release.pub"]
 * ```
 */
export interface HostConfig {
  readonly file: string;
  readonly manager: ManagerConfig;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  /** The `[trust]` table: signature policy and trusted keys for every source. */
  readonly trust: TrustSettings | undefined;
}

export interface ManagerConfig {
  /** Plugin directories (and globs) to discover, absolute. */
  readonly pluginDirs: readonly string[];
  /** Where source builds and git checkouts are cached, absolute. */
  readonly cacheDir: string;
  readonly startTimeoutMs: number;
  readonly handshake: HandshakeConfig | undefined;
  readonly versions: readonly number[] | undefined;
  /** What discovery in `pluginDirs` may run (`discovery`). Default "all". */
  readonly discovery: DiscoveryRun;
  /** The host variables discovered plugins receive (`host_env`). Default "all". */
  readonly hostEnv: HostEnvPolicy | undefined;
  /**
   * `host_versions`: what this host is (`{ myapp: "2.3.0" }`), checked against each plugin's
   * `engines`; plugwire's own version is added where it is checked. Default none.
   */
  readonly hostVersions: HostVersions;
}

export interface ServiceConfig {
  readonly name: string;
  /** As written: a name, a path or a URL. */
  readonly driver: string;
  readonly ref: string | undefined;
  /** `version`: the semver range the source must resolve within, as written. */
  readonly version: string | undefined;
  /** `[services.<name>.trust]`: this source's policy and keys, over the global `[trust]`. */
  readonly trust: TrustSettings | undefined;
  /** TypeScript sources: let npm run the dependencies' install scripts. Default false. */
  readonly allowInstallScripts: boolean;
  /** The table `drivers.<driver name>`: the driver's own settings. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly handshake: HandshakeConfig | undefined;
  /** The host variables this service's plugin receives (`host_env`). Default "all". */
  readonly hostEnv: HostEnvPolicy | undefined;
  /**
   * `netrpc_plugin`: the driver speaks go-plugin's net/rpc protocol and serves its interface
   * under this plugin name (Reva's `userprovider`); undefined for gRPC drivers.
   */
  readonly netrpcPlugin: string | undefined;
  /** Where `driver` is set, for messages. */
  readonly line: number;
}

/** Reads and checks a host config file; errors name the file, line and key. */
export async function loadConfig(file: string): Promise<HostConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new PluginError("CONFIG_INVALID", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    });
  }
  return parseConfig(text, path);
}

/** Parses config text; `file` is used for messages and to resolve relative paths. */
export function parseConfig(text: string, file: string): HostConfig {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError)
      throw new PluginError(
        "CONFIG_INVALID",
        `${file}:${error.line}:${error.column}: invalid TOML: ${error.message.split("\n")[0]}`,
        { cause: error, details: { file, line: error.line } },
      );
    throw error;
  }
  const reader = configReader(text, file);
  reader.known(data, [], ["manager", "services", "trust"]);
  const manager = readManager(reader, reader.table(data.manager, ["manager"]));
  const services: Record<string, ServiceConfig> = {};
  for (const [name, value] of Object.entries(reader.table(data.services, ["services"])))
    services[name] = readService(reader, name, value);
  const trust = parseTrustSettings(data.trust, ["trust"], reader.baseDir, reader.fail);
  return { file, manager, services, trust };
}

const managerKeys = [
  "plugin_dirs",
  "cache_dir",
  "start_timeout_ms",
  "handshake",
  "versions",
  "discovery",
  "host_env",
  "host_versions",
] as const;

/** The `[manager]` table. */
function readManager(reader: ConfigReader, m: Record<string, unknown>): ManagerConfig {
  const { fail, string } = reader;
  reader.known(m, ["manager"], managerKeys);
  const discovery = m.discovery ?? "all";
  if (discovery !== "all" && discovery !== "manifest")
    fail(
      ["manager", "discovery"],
      `expected "all" or "manifest", got ${JSON.stringify(discovery)}`,
    );
  const dirs = m.plugin_dirs ?? [];
  if (!Array.isArray(dirs) || dirs.some((d) => typeof d !== "string"))
    fail(["manager", "plugin_dirs"], `expected an array of paths, got ${JSON.stringify(dirs)}`);
  const timeout = m.start_timeout_ms ?? 5000;
  if (typeof timeout !== "number" || !(timeout > 0))
    fail(
      ["manager", "start_timeout_ms"],
      `expected a positive number of milliseconds, got ${JSON.stringify(timeout)}`,
    );
  const versions = m.versions;
  if (
    versions !== undefined &&
    (!Array.isArray(versions) || versions.some((v) => !Number.isInteger(v)))
  )
    fail(["manager", "versions"], `expected an array of integers, got ${JSON.stringify(versions)}`);
  return {
    pluginDirs: (dirs as string[]).map(reader.absolute),
    cacheDir: reader.absolute(
      m.cache_dir === undefined ? ".cache/plugwire" : string(m.cache_dir, ["manager", "cache_dir"]),
    ),
    startTimeoutMs: timeout as number,
    handshake: reader.handshake(m.handshake, ["manager", "handshake"]),
    versions: versions as number[] | undefined,
    discovery: discovery as DiscoveryRun,
    hostEnv: reader.hostEnv(m.host_env, ["manager", "host_env"]),
    hostVersions: readHostVersions(reader, m.host_versions),
  };
}

/** `host_versions = { myapp = "2.3.0" }`: exact semver versions; `plugwire` is plugwire's own. */
function readHostVersions(reader: ConfigReader, value: unknown): HostVersions {
  const path = ["manager", "host_versions"];
  const table = reader.table(value, path);
  const out: Record<string, string> = {};
  for (const [name, version] of Object.entries(table)) {
    if (name === "plugwire")
      reader.fail(
        [...path, name],
        "plugwire's version is its own and is always checked; remove this key",
      );
    if (typeof version !== "string" || semver.valid(version) === null)
      reader.fail(
        [...path, name],
        `expected a version such as "2.3.0", got ${JSON.stringify(version)}`,
      );
    out[name] = semver.valid(version as string)!;
  }
  return out;
}

const serviceKeys = [
  "driver",
  "ref",
  "version",
  "allow_install_scripts",
  "handshake",
  "drivers",
  "host_env",
  "trust",
  "netrpc_plugin",
] as const;

/** One `[services.<name>]` table. */
function readService(reader: ConfigReader, name: string, value: unknown): ServiceConfig {
  const { fail, string } = reader;
  const path = ["services", name];
  const t = reader.table(value, path);
  reader.known(t, path, serviceKeys);
  const driver = string(t.driver, [...path, "driver"]);
  const ref = t.ref === undefined ? undefined : string(t.ref, [...path, "ref"]);
  const version = t.version === undefined ? undefined : string(t.version, [...path, "version"]);
  if (version !== undefined)
    try {
      checkRange(version, "version", name);
    } catch (error) {
      fail(
        [...path, "version"],
        (error as { rawMessage: string }).rawMessage.replace(/^version: /, ""),
      );
    }
  const scripts = t.allow_install_scripts ?? false;
  if (typeof scripts !== "boolean")
    fail(
      [...path, "allow_install_scripts"],
      `expected true or false, got ${JSON.stringify(scripts)}`,
    );
  const drivers = reader.table(t.drivers, [...path, "drivers"]);
  const key = driverKey(driver);
  return {
    name,
    driver,
    ref,
    version,
    trust: parseTrustSettings(t.trust, [...path, "trust"], reader.baseDir, fail),
    allowInstallScripts: scripts as boolean,
    settings: reader.table(drivers[key], [...path, "drivers", key]),
    handshake: reader.handshake(t.handshake, [...path, "handshake"]),
    hostEnv: reader.hostEnv(t.host_env, [...path, "host_env"]),
    netrpcPlugin:
      t.netrpc_plugin === undefined
        ? undefined
        : string(t.netrpc_plugin, [...path, "netrpc_plugin"]),
    line: reader.line([...path, "driver"]),
  };
}

/**
 * The name a driver's settings table goes by (Reva's `drivers.<name>`): the driver itself when it
 * is a name, else the last path or URL segment without `.git`.
 */
export function driverKey(driver: string): string {
  const trimmed = driver.replace(/\/+$/, "");
  const last = trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf(":")) + 1);
  return last.replace(/\.git$/, "") || driver;
}
