// What `plugwire install` / `update` will do for a configuration and its lock, decided before
// anything is fetched: which services to install, which lock entries they must reproduce, which
// entries stay or go. `--frozen` is refused here, at once, when the lock does not cover it all.

import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import semver from "semver";
import type { HostConfig, ServiceConfig } from "../../config/config.ts";
import { isRegistrySource, serviceSource } from "../../config/drivers.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { lockedArtifactPath } from "../../lock/launch-check.ts";
import type { LockEntry, Lockfile } from "../../lock/lock-file.ts";
import { sourceLanguage } from "../../sources/build-source.ts";
import { isGitUrl } from "../../sources/git-source.ts";
import type { SourceSpec } from "../../sources/resolve.ts";
import { parseSource } from "../../sources/resolve.ts";

/** One plugin to install. */
export interface InstallTarget {
  /** The lock entry's name: the service's, or the plugin's for `install <source>`. */
  readonly name: string;
  /** The source as the lock records it (as written, a git ref after `#`). */
  readonly source: string;
  readonly spec: SourceSpec;
  readonly constraint: string | undefined;
  /**
   * The entry to reproduce exactly (its version or commit, its integrity and SHA-256); undefined
   * resolves the constraint anew (a new service, a changed source, `update`).
   */
  readonly locked: LockEntry | undefined;
  /** The configured service, when the plugin is one. */
  readonly service: ServiceConfig | undefined;
  /** The folder the artifact is placed in. */
  readonly dest: string;
}

export interface InstallPlan {
  readonly targets: readonly InstallTarget[];
  /** Entries the install leaves as they are. */
  readonly kept: readonly LockEntry[];
  /** Entries with no service left (and no artifact in a plugin directory): dropped. */
  readonly removed: readonly string[];
}

export interface PlanOptions {
  /** Only these services (`install NAME`, `update NAME`); the other entries are kept. */
  readonly only?: readonly string[] | undefined;
  /** Resolve these anew within their constraints, ignoring their entries (`update`). */
  readonly fresh?: ReadonlySet<string> | undefined;
  /** Refuse (`LOCK_FROZEN`) unless every service has an entry that applies. */
  readonly frozen?: boolean | undefined;
}

/** Where installed plugins go: `<cache_dir>/installed/<name>`. */
export function installedDir(config: HostConfig, name: string): string {
  return join(config.manager.cacheDir, "installed", name.replace(/[^\w.-]+/g, "_"));
}

/**
 * The source string of a service whose driver plugwire install fetches and builds (a registry,
 * a git URL, a source or package folder), or undefined for drivers that run as they are (an
 * in-process name, an executable).
 */
export function installableSource(service: ServiceConfig, baseDir: string): SourceSpec | undefined {
  const { driver } = service;
  if (isRegistrySource(driver) || isGitUrl(driver))
    return parseSource(serviceSource(driver, service.ref));
  const path = isAbsolute(driver) ? driver : resolve(baseDir, driver);
  if (!existsSync(path) || !statSync(path).isDirectory()) return undefined;
  // A Go or TypeScript source, or a package folder (copied as it is).
  return sourceLanguage(path) === undefined ? undefined : parseSource(path);
}

/** Plans an install of the configuration's services against `lock`. */
export function planInstall(
  config: HostConfig,
  lock: Lockfile,
  lockFile: string,
  options: PlanOptions = {},
): InstallPlan {
  const baseDir = resolve(config.file, "..");
  const targets: InstallTarget[] = [];
  const problems: Array<{ name: string; why: string }> = [];
  const services = new Set<string>();
  for (const service of Object.values(config.services)) {
    const spec = installableSource(service, baseDir);
    if (spec === undefined) continue;
    services.add(service.name);
    if (options.only !== undefined && !options.only.includes(service.name)) continue;
    const source = serviceSource(service.driver, service.ref);
    const constraint = service.version;
    const entry = lock.plugins[service.name];
    const locked = options.fresh?.has(service.name)
      ? undefined
      : applicableEntry(entry, source, constraint);
    if (options.frozen === true) {
      const why = frozenProblem(service.name, entry, source, constraint);
      if (why !== undefined) problems.push({ name: service.name, why });
    }
    targets.push({
      name: service.name,
      source,
      spec,
      constraint,
      locked,
      service,
      dest: installedDir(config, service.name),
    });
  }
  for (const name of options.only ?? [])
    if (!services.has(name))
      throw new PluginError(
        "CONFIG_INVALID",
        `${config.file} has no service ${JSON.stringify(name)} that plugwire install fetches (installable: ${[...services].join(", ") || "none"})`,
      );
  const removed: string[] = [];
  const kept: LockEntry[] = [];
  for (const entry of Object.values(lock.plugins)) {
    if (targets.some((t) => t.name === entry.name)) continue;
    if (
      services.has(entry.name) ||
      options.only !== undefined ||
      inPluginDir(config, entry, lockFile)
    )
      kept.push(entry);
    else removed.push(entry.name);
  }
  if (options.frozen === true)
    for (const name of removed)
      problems.push({ name, why: `plugins.${name} is locked but no service names it` });
  if (problems.length > 0)
    throw new PluginError(
      "LOCK_FROZEN",
      `${lockFile} is frozen but does not cover the configuration:\n  ${problems.map((p) => p.why).join("\n  ")}\nNothing was fetched. Run plugwire install without --frozen and commit the new lock`,
      {
        plugin: problems.length === 1 ? problems[0]!.name : undefined,
        details: { file: lockFile, problems: problems.map((p) => p.why) },
      },
    );
  return { targets, kept, removed };
}

/**
 * The entry a service must reproduce: one written for the same source and constraint; or one for
 * the same source whose version still satisfies a changed constraint (kept, as npm keeps a
 * lock's version when the range still allows it).
 */
function applicableEntry(
  entry: LockEntry | undefined,
  source: string,
  constraint: string | undefined,
): LockEntry | undefined {
  if (entry === undefined || entry.source !== source) return undefined;
  if (entry.constraint === constraint) return entry;
  if (
    constraint !== undefined &&
    entry.version !== undefined &&
    semver.satisfies(entry.version, constraint)
  )
    return { ...entry, constraint };
  return undefined;
}

function frozenProblem(
  name: string,
  entry: LockEntry | undefined,
  source: string,
  constraint: string | undefined,
): string | undefined {
  if (entry === undefined) return `services.${name} is not in the lock (a new service)`;
  if (entry.source !== source)
    return `services.${name}: the source is now ${source}, the lock has ${entry.source}`;
  if (entry.constraint !== constraint)
    return `services.${name}: the version constraint is now ${constraint ?? "(none)"}, the lock was written for ${entry.constraint ?? "(none)"}`;
  return undefined;
}

/** An entry `install <source> --dir` made: its artifact lies in one of the plugin directories. */
function inPluginDir(config: HostConfig, entry: LockEntry, lockFile: string): boolean {
  const artifact = lockedArtifactPath(entry, lockFile);
  if (artifact === undefined) return false;
  return config.manager.pluginDirs.some((dir) => {
    const inside = relative(dir, artifact);
    return (
      inside !== "" && !inside.startsWith("..") && !inside.startsWith(sep) && !isAbsolute(inside)
    );
  });
}
