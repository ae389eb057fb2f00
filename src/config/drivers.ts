import { existsSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { explainLockRefusal } from "../discovery/locked-command.ts";
import type { PackageManifest } from "../discovery/package-manifest.ts";
import {
  entryCommand,
  findPackageManifest,
  readPackageManifest,
} from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import type { PluginSet } from "../host/options.ts";
import type { LockEntry } from "../lock/lock-file.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { PluginManifest } from "../providers/manifest.ts";
import type { ServiceRegistration } from "../rpc/core/types.ts";
import { buildSource, sourceLanguage } from "../sources/build-source.ts";
import { fetchGit, isGitUrl } from "../sources/git-source.ts";
import type { Connection } from "../supervisor/connection.ts";
import { connectInProcess } from "../supervisor/in-process.ts";
import type { ProcessSpec } from "../supervisor/launch-process.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import type { HostVersions } from "../versions/engines.ts";
import { requireCompatible } from "../versions/engines.ts";
import { hostVersionsWith } from "../versions/plugwire-version.ts";
import type { LockKey } from "./locked-driver.ts";
import { currentLockEntry, prepareLocked } from "./locked-driver.ts";

/**
 * An in-process driver: builds the implementations from the driver's settings. `configDir` is the
 * config file's folder, which relative paths in settings are relative to (plugin processes run
 * there).
 */
export type InProcessDriver = (
  settings: Readonly<Record<string, unknown>>,
  context: { readonly configDir: string },
) => ReadonlyArray<ServiceRegistration<DescService>>;

/** Where a driver comes from, once its string is understood. */
export type DriverSource =
  | { readonly kind: "in-process"; readonly name: string }
  | { readonly kind: "executable"; readonly path: string }
  | { readonly kind: "package"; readonly dir: string }
  | { readonly kind: "source"; readonly dir: string }
  | { readonly kind: "git"; readonly url: string; readonly ref: string | undefined }
  /** npm, Go module and HTTPS archive sources: run only once `plugwire install` placed them. */
  | { readonly kind: "registry"; readonly source: string };

/** Registry sources: `npm:…`, `go:…`, an `https://…/x.zip` archive (with an optional `@range`). */
export function isRegistrySource(driver: string): boolean {
  return /^(npm|go):/.test(driver) || /^https:\/\/[^#]*\.zip(@[^/]*)?$/i.test(driver);
}

/** Whether `plugwire install` fetches, builds and locks this driver (else it runs as it is). */
export function isInstallable(source: DriverSource): boolean {
  return source.kind === "source" || source.kind === "git" || source.kind === "registry";
}

/** The source as a lock entry records it: the driver, and a git ref after `#`. */
export function serviceSource(driver: string, ref: string | undefined): string {
  return ref === undefined ? driver : `${driver}#${ref}`;
}

/** Decides what a driver string names. Paths are relative to `baseDir`. */
export function resolveDriver(
  driver: string,
  options: { baseDir: string; ref?: string | undefined; inProcess: ReadonlySet<string> },
): DriverSource {
  if (isRegistrySource(driver)) return { kind: "registry", source: driver };
  if (isGitUrl(driver)) return { kind: "git", url: driver, ref: options.ref };
  if (options.inProcess.has(driver)) return { kind: "in-process", name: driver };
  const path = isAbsolute(driver) ? driver : join(options.baseDir, driver);
  if (!existsSync(path)) {
    const known = [...options.inProcess].join(", ") || "none registered";
    throw new PluginError(
      "CONFIG_INVALID",
      `driver ${JSON.stringify(driver)} is neither an in-process driver (${known}), an existing path (${path}), nor a git URL`,
    );
  }
  if (!statSync(path).isDirectory()) return { kind: "executable", path };
  if (existsSync(join(path, "go.mod"))) return { kind: "source", dir: path };
  const manifest = findPackageManifest(path);
  if (manifest === undefined)
    throw new PluginError(
      "CONFIG_INVALID",
      `driver ${JSON.stringify(driver)}: ${path} is a folder with neither go.mod nor plugwire.json/plugwire.toml`,
    );
  return { kind: sourceLanguage(path) === "typescript" ? "source" : "package", dir: path };
}

export interface DriverLaunchOptions {
  id: string;
  source: DriverSource;
  settings: Readonly<Record<string, unknown>>;
  inProcess: Readonly<Record<string, InProcessDriver>>;
  /** Handshake from config; the package manifest's, then the manager's, otherwise. */
  handshake: HandshakeConfig | undefined;
  versions: readonly number[] | undefined;
  cacheDir: string;
  /** The config file's folder: plugin processes run there. */
  configDir: string;
  startTimeoutMs: number;
  /** TypeScript sources: run the dependencies' install scripts (default false). */
  allowInstallScripts?: boolean | undefined;
  onProgress?: ((message: string) => void) | undefined;
  process?: Partial<ProcessSpec> | undefined;
  /** The plugin set of a net/rpc driver, read at every start (its interface may come later). */
  plugins?: (() => PluginSet | undefined) | undefined;
  /**
   * Where the service's lock entry is. Installable sources then run the artifact the lock
   * records, checked at every start; without a lock file they are built at start as before.
   */
  lock?: LockKey | undefined;
  /** What the host is, for the plugin's `engines` (plugwire's version is added). */
  hostVersions?: HostVersions | undefined;
}

/**
 * The launch function for a configured driver. Sources are (re)built on every start, which costs
 * one content hash when nothing changed; git sources are fetched once, pinned to their commit.
 */
export function driverLauncher(
  options: DriverLaunchOptions,
): (signal: AbortSignal) => Promise<Connection> {
  const { source } = options;
  let checkout: Promise<string> | undefined;
  return async (signal) => {
    const entry = isInstallable(source) ? await lockEntryFor(options) : undefined;
    if (entry !== undefined) return launchLocked(options, entry, signal);
    switch (source.kind) {
      case "in-process": {
        const factory = options.inProcess[source.name]!;
        return connectInProcess({
          name: options.id,
          services: factory(options.settings, { configDir: options.configDir }),
        });
      }
      case "executable":
        return launchProcess(await processSpec(options, source.path, undefined), signal);
      case "package":
        return launchProcess(await processSpec(options, undefined, source.dir), signal);
      case "source":
        return launchProcess(await buildSpec(options, source.dir, signal), signal);
      case "git": {
        checkout ??= fetchGit(source.url, source.ref, {
          cacheDir: options.cacheDir,
          signal,
          onProgress: options.onProgress,
        }).then((c) => c.dir);
        checkout.catch(() => {
          checkout = undefined; // try again on the next start
        });
        return launchProcess(await buildSpec(options, await checkout, signal), signal);
      }
      case "registry":
        throw new PluginError(
          "NOT_INSTALLED",
          `${source.source} is fetched by plugwire install, and there is no ${options.lock?.file ?? "plugwire.lock"} yet. Run plugwire install`,
          { plugin: options.id },
        );
    }
  };
}

async function lockEntryFor(options: DriverLaunchOptions): Promise<LockEntry | undefined> {
  return options.lock === undefined ? undefined : currentLockEntry(options.lock);
}

/** Runs the artifact the lock records, checked against it (this start, and every restart). */
async function launchLocked(
  options: DriverLaunchOptions,
  entry: LockEntry,
  signal: AbortSignal,
): Promise<Connection> {
  const key = options.lock!;
  const locked = await prepareLocked(entry, key);
  const spec = await processSpec(options, locked.command.cmd, undefined, locked.pkg);
  try {
    return await launchProcess(
      { ...spec, args: locked.command.args, secure: locked.command.secure },
      signal,
    );
  } catch (error) {
    throw explainLockRefusal(error, entry, key.file);
  }
}

async function buildSpec(options: DriverLaunchOptions, dir: string, signal: AbortSignal) {
  const built = await buildSource(dir, {
    cacheDir: options.cacheDir,
    signal,
    onProgress: options.onProgress,
    allowInstallScripts: options.allowInstallScripts,
  });
  return processSpec(options, built.executable, join(built.executable, ".."));
}

async function processSpec(
  options: DriverLaunchOptions,
  executable: string | undefined,
  packageDir: string | undefined,
  known?: PackageManifest,
): Promise<ProcessSpec> {
  const manifestFile = packageDir === undefined ? undefined : findPackageManifest(packageDir);
  const pkg =
    known ?? (manifestFile === undefined ? undefined : await readPackageManifest(manifestFile));
  if (pkg !== undefined)
    requireCompatible(
      { id: options.id, engines: pkg.engines },
      hostVersionsWith(options.hostVersions),
    );
  const command =
    executable !== undefined ? { cmd: executable, args: [] } : entryCommand(pkg!.entry, pkg!.args);
  const handshake = options.handshake ?? pkg?.handshake;
  if (handshake === undefined)
    throw new PluginError(
      "CONFIG_INVALID",
      "no handshake for this driver: set [manager.handshake] or the service's handshake, or name one in the plugin's plugwire.toml",
      { plugin: options.id },
    );
  return {
    ...options.process,
    name: options.id,
    cmd: command.cmd,
    args: command.args,
    cwd: options.configDir,
    handshake,
    plugins: options.plugins?.(),
    versions: options.versions ?? pkg?.versions,
    settings: options.settings,
    startTimeoutMs: options.startTimeoutMs,
  };
}

/** What is known about a driver before it runs. */
export function driverManifest(id: string, source: DriverSource): PluginManifest {
  const where =
    source.kind === "in-process"
      ? `in-process:${source.name}`
      : source.kind === "git"
        ? `${source.url}${source.ref === undefined ? "" : `#${source.ref}`}`
        : source.kind === "executable"
          ? source.path
          : source.kind === "registry"
            ? source.source
            : source.dir;
  return {
    id,
    name: id,
    version: "",
    author: "",
    description: where,
    services: [],
    providers: [],
    origin: "config",
  };
}
