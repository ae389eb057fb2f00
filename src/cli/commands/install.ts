import { existsSync, statSync } from "node:fs";
import { chmod, cp, mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { isRegistrySource } from "../../config/drivers.ts";
import { classify } from "../../discovery/candidates.ts";
import { discoverPlugins } from "../../discovery/discovery.ts";
import { findPackageManifest, readPackageManifest } from "../../discovery/package-manifest.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { buildSource, sourceLanguage } from "../../sources/build-source.ts";
import { fetchGit, isGitUrl } from "../../sources/git-source.ts";
import { fetchSource, parseSource, resolveSource } from "../../sources/resolve.ts";
import { parseReference } from "../../versions/constraint.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../context.ts";
import { printJson, progress, progressLine, stderrTail } from "../output.ts";
import { isBuild, runBundleDirectly } from "./install-place.ts";
import { recordInstalled } from "./install-record.ts";
import { installServices } from "./install-services.ts";

export interface InstallFlags {
  /** The plugin directory for `install <source>`. Default the config's first plugin_dirs. */
  dir?: string | undefined;
  ref?: string | undefined;
  cacheDir?: string | undefined;
  /** TypeScript sources: let npm run the dependencies' install scripts. */
  allowScripts?: boolean | undefined;
  /** Install exactly what plugwire.lock records, or fail; never write it (CI). */
  frozen?: boolean | undefined;
  /** Plugins installed at once (default 4). */
  jobs?: string | undefined;
}

/**
 * `plugwire install`: with `--config` and no source (or a service's name), every installable
 * service (or that one), written to plugwire.lock (`install-services.ts`). With a source
 * (`<path | source dir | git URL | npm:… | go:… | https archive> --dir <plugin dir>`): builds what
 * needs building and puts the plugin in the directory (an executable, or a package folder), then
 * checks it starts; a plugin that does not start is removed again, its stderr tail shown. With a
 * configuration in use, its entry is recorded in the lock too.
 */
export async function install(
  source: string | undefined,
  flags: InstallFlags,
  context: CliContext,
): Promise<number> {
  const { config } = context;
  const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0))
    throw new UsageError(`--jobs must be a positive integer, got ${JSON.stringify(flags.jobs)}`);
  const run = { frozen: flags.frozen, jobs, allowScripts: flags.allowScripts };
  try {
    if (source === undefined) {
      if (config === undefined)
        throw new UsageError(
          "install needs a source (a path, a source folder, a git URL, npm:…, go:…, an https archive) and --dir, or --config plugwire.toml to install its services",
        );
      return await installServices(config, context, run);
    }
    if (config?.services[source] !== undefined)
      return await installServices(config, context, { ...run, only: [source] });
    if (flags.frozen === true)
      throw new UsageError(
        "--frozen installs what plugwire.lock records for the configuration's services: pass --config and no source (or a service's name)",
      );
    const dir = flags.dir ?? config?.manager.pluginDirs[0];
    if (dir === undefined)
      throw new UsageError(
        "install <source> needs --dir <plugin-dir> (or --config with plugin_dirs)",
      );
    return await installSteps(source, { ...flags, dir }, context);
  } finally {
    progressLine.done();
  }
}

async function installSteps(
  source: string,
  flags: InstallFlags & { dir: string },
  context: CliContext,
): Promise<number> {
  const cacheDir = resolve(
    flags.cacheDir ?? context.config?.manager.cacheDir ?? join(homedir(), ".cache/plugwire"),
  );
  const pluginDir = resolve(flags.dir);
  await mkdir(pluginDir, { recursive: true });
  const { from, commit, version } = await locateSource(source, flags, cacheDir);
  const installed = statSync(from).isDirectory()
    ? await placeFolder(from, source, pluginDir, cacheDir, flags)
    : await placeExecutable(from, pluginDir);
  // A recorded TypeScript plugin runs its bundle, the file its lock entry vouches for.
  const recording = context.config !== undefined;
  if (recording && isBuild(installed)) await runBundleDirectly(installed);
  const check = await checkInstalled(installed, context);
  const change = recording
    ? await recordInstalled(context.config!, { source, installed, commit, version, ref: flags.ref })
    : undefined;
  progressLine.done();
  if (context.json) printJson({ installed, source, commit, check, lock: change });
  else
    process.stdout.write(
      `installed ${installed}${commit === undefined ? "" : ` (commit ${commit.slice(0, 12)})`}: ${check}\n${change === undefined ? "" : `${change.lockFile}: ${change.line}\n`}`,
    );
  return 0;
}

/** Where the plugin's files are: a git URL's checkout (and its commit), or the local path. */
async function locateSource(
  source: string,
  flags: InstallFlags,
  cacheDir: string,
): Promise<{ from: string; commit: string | undefined; version?: string | undefined }> {
  let from: string;
  let commit: string | undefined;
  if (
    isRegistrySource(source) ||
    (isGitUrl(source) && parseReference(source).range !== undefined)
  ) {
    // npm, Go modules, archives and git tags by range: resolved and fetched (and built) by the
    // sources, verified with their own checks; the result is placed as a path would be.
    const options = { cacheDir, onProgress: progress, allowScripts: flags.allowScripts };
    const resolved = await resolveSource(parseSource(source), options);
    const fetched = await fetchSource(resolved, options);
    return { from: fetched.path, commit: resolved.commit, version: resolved.version };
  }
  if (isGitUrl(source)) {
    const checkout = await fetchGit(source, flags.ref, { cacheDir, onProgress: progress });
    from = checkout.dir;
    commit = checkout.commit;
  } else from = resolve(source);
  if (!existsSync(from))
    throw new PluginError(
      "CONFIG_INVALID",
      `${source} does not exist: no file or folder at ${from} (nor a git URL)`,
    );
  return { from, commit };
}

/**
 * A folder: a prebuilt package is copied as is; a source is built (or its cached build reused)
 * and its output copied. Replaces what was installed under the same name.
 */
async function placeFolder(
  from: string,
  source: string,
  pluginDir: string,
  cacheDir: string,
  flags: InstallFlags,
): Promise<string> {
  const manifestFile = findPackageManifest(from);
  const pkg = manifestFile === undefined ? undefined : await readPackageManifest(manifestFile);
  const name = pkg?.manifest.id ?? sourceName(source);
  const installed = join(pluginDir, name);
  const language = sourceLanguage(from);
  const prebuilt = pkg !== undefined && language !== "go" && !/\.(m|c)?[jt]s$/.test(pkg.entry);
  await rm(installed, { recursive: true, force: true });
  if (prebuilt) {
    progress(`copying package ${name}`);
    await cp(from, installed, { recursive: true });
    return installed;
  }
  const built = await buildSource(from, {
    cacheDir,
    onProgress: progress,
    allowInstallScripts: flags.allowScripts === true,
  });
  progress(
    built.cached ? `reusing build ${built.hash.slice(0, 12)}` : `built ${built.hash.slice(0, 12)}`,
  );
  await cp(join(built.executable, ".."), installed, { recursive: true });
  if (findPackageManifest(installed) === undefined) {
    // A Go source without a manifest installs as a bare executable.
    await rm(installed, { recursive: true, force: true });
    await cp(built.executable, installed);
    await chmod(installed, 0o755);
  }
  return installed;
}

/** A single file: copied into the plugin directory and made executable. */
async function placeExecutable(from: string, pluginDir: string): Promise<string> {
  const installed = join(pluginDir, basename(from));
  progress(`copying ${basename(from)}`);
  await cp(from, installed);
  await chmod(installed, 0o755);
  return installed;
}

/**
 * With a handshake, starts the plugin once and removes it again when it does not start (its
 * stderr tail in the error); without one, only checks that it looks like a plugin.
 */
async function checkInstalled(installed: string, context: CliContext): Promise<string> {
  if (context.handshake === undefined) {
    if ((await classify(installed)).kind === "skip")
      throw new PluginError("NOT_A_PLUGIN", `installed ${installed} but it is not a plugin`);
    return "not checked (no handshake given)";
  }
  progress("checking that it starts");
  const result = await discoverPlugins({
    paths: [installed],
    handshake: context.handshake,
    versions: context.versions,
    startTimeoutMs: context.startTimeoutMs,
    supervise: { healthIntervalMs: 0 },
  });
  await Promise.all(result.found.map((f) => f.plugin.close()));
  const skipped = result.skipped[0];
  if (skipped !== undefined) {
    await rm(installed, { recursive: true, force: true });
    const tail = stderrTail(skipped.error, "  ");
    throw new PluginError(
      "NOT_A_PLUGIN",
      `${installed} does not work, so it was removed again: ${skipped.message}${tail === "" ? "" : `\n${tail}`}`,
      { cause: skipped.error, details: { stderr: skipped.error?.details.stderr } },
    );
  }
  return "starts and answers";
}

/** A plugin's folder name from its source: the last path segment, no `.git`, no `@range`. */
function sourceName(source: string): string {
  let name = source;
  try {
    name = parseReference(source).name;
  } catch {
    // An `@` in a path that is not a range: the name keeps it.
  }
  return basename(name).replace(/\.git$/, "");
}
