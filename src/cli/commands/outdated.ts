// `plugwire outdated` and `plugwire update [NAME]`: what the sources offer beyond the lock, and
// moving the lock within the configured constraints.
import { resolve } from "node:path";
import semver from "semver";
import type { HostConfig } from "../../config/config.ts";
import { serviceSource } from "../../config/drivers.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { lockFileFor, readLock } from "../../lock/lock-file.ts";
import { availableVersions } from "../../sources/resolve.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../context.ts";
import { printJson, progress, progressLine, table } from "../output.ts";
import { installableSource } from "./install-plan.ts";
import type { InstallRunOptions } from "./install-services.ts";
import { installServices } from "./install-services.ts";

/** One row of `plugwire outdated`. */
export interface OutdatedRow {
  readonly name: string;
  readonly source: string;
  readonly constraint: string | undefined;
  /** The version the lock records (undefined: not installed, or a source without versions). */
  readonly locked: string | undefined;
  /** The highest version within the constraint. */
  readonly wanted: string | undefined;
  /** The highest release overall. */
  readonly latest: string | undefined;
  /** Why the source could not be asked (`[CODE] …`). */
  readonly error?: string | undefined;
}

/** The installable services (all, or `name`) with their source specs. */
function installable(config: HostConfig, name: string | undefined) {
  const baseDir = resolve(config.file, "..");
  const out = Object.values(config.services).flatMap((service) => {
    const spec = installableSource(service, baseDir);
    return spec === undefined ? [] : [{ service, spec }];
  });
  if (name !== undefined && !out.some((s) => s.service.name === name))
    throw new PluginError(
      "CONFIG_INVALID",
      `${config.file} has no service ${JSON.stringify(name)} that plugwire install fetches (installable: ${out.map((s) => s.service.name).join(", ") || "none"})`,
    );
  return name === undefined ? out : out.filter((s) => s.service.name === name);
}

/**
 * For each installable service: the locked version, the highest within its constraint and the
 * highest overall (a table, or `--json`). Exit 1 when a source could not be asked.
 */
export async function outdated(name: string | undefined, context: CliContext): Promise<number> {
  const config = requireConfig(context, "outdated");
  const lock = await readLock(lockFileFor(config.file));
  progress("asking the sources for their versions");
  const rows = await Promise.all(
    installable(config, name).map(async ({ service, spec }): Promise<OutdatedRow> => {
      const base = {
        name: service.name,
        source: serviceSource(service.driver, service.ref),
        constraint: service.version,
        locked: lock.plugins[service.name]?.version,
      };
      try {
        const versions = await availableVersions(spec, {
          constraint: service.version,
          cacheDir: config.manager.cacheDir,
          plugin: service.name,
          projectDir: resolve(config.file, ".."),
        });
        const wanted = semver.maxSatisfying(versions, service.version ?? "*") ?? undefined;
        return { ...base, wanted, latest: semver.maxSatisfying(versions, "*") ?? undefined };
      } catch (error) {
        return {
          ...base,
          wanted: undefined,
          latest: undefined,
          error: PluginError.from(error).message,
        };
      }
    }),
  ).finally(() => progressLine.done());
  if (context.json) printJson(rows);
  else {
    const cell = (v: string | undefined) => v ?? "-";
    process.stdout.write(
      `${table(
        ["NAME", "LOCKED", "WANTED", "LATEST", "CONSTRAINT", "SOURCE"],
        rows.map((r) => [
          r.name,
          cell(r.locked),
          cell(r.wanted),
          cell(r.latest),
          cell(r.constraint),
          r.source,
        ]),
      )}\n`,
    );
    for (const row of rows) if (row.error !== undefined) process.stderr.write(`✖ ${row.error}\n`);
  }
  return rows.some((r) => r.error !== undefined) ? 1 : 0;
}

/**
 * Resolves the constraints anew (all installable services, or `name`'s only), installs what
 * they resolve to and rewrites the lock; other entries stay as they are.
 */
export async function update(
  name: string | undefined,
  context: CliContext,
  options: InstallRunOptions,
): Promise<number> {
  const config = requireConfig(context, "update");
  const names = installable(config, name).map((s) => s.service.name);
  return installServices(config, context, {
    ...options,
    only: name === undefined ? undefined : [name],
    fresh: new Set(names),
    verb: "update",
  });
}

function requireConfig(context: CliContext, command: string): HostConfig {
  if (context.config !== undefined) return context.config;
  throw new UsageError(
    `${command} reads the services of a configuration: pass --config plugwire.toml`,
  );
}
