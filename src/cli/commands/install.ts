import { existsSync, statSync } from "node:fs";
import { chmod, cp, mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { classify } from "../../discovery/candidates.ts";
import { discoverPlugins } from "../../discovery/discovery.ts";
import { findPackageManifest, readPackageManifest } from "../../discovery/package-manifest.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { buildSource, sourceLanguage } from "../../sources/build-source.ts";
import { fetchGit, isGitUrl } from "../../sources/git-source.ts";
import type { CliContext } from "../context.ts";
import { printJson, progress, progressLine, stderrTail } from "../output.ts";

export interface InstallFlags {
  dir: string;
  ref?: string | undefined;
  cacheDir?: string | undefined;
  /** TypeScript sources: let npm run the dependencies' install scripts. */
  allowScripts?: boolean | undefined;
}

/**
 * `plugwire install <path | source dir | git URL> --dir <plugin dir>`: builds what needs building
 * and puts the plugin in the directory (an executable, or a package folder), then checks it starts.
 * A plugin that does not start is removed again, and its stderr tail shown.
 */
export async function install(
  source: string,
  flags: InstallFlags,
  context: CliContext,
): Promise<number> {
  try {
    return await installSteps(source, flags, context);
  } finally {
    progressLine.done();
  }
}

async function installSteps(
  source: string,
  flags: InstallFlags,
  context: CliContext,
): Promise<number> {
  const cacheDir = resolve(
    flags.cacheDir ?? context.config?.manager.cacheDir ?? join(homedir(), ".cache/plugwire"),
  );
  const pluginDir = resolve(flags.dir);
  await mkdir(pluginDir, { recursive: true });
  const { from, commit } = await locateSource(source, flags, cacheDir);
  const installed = statSync(from).isDirectory()
    ? await placeFolder(from, source, pluginDir, cacheDir, flags)
    : await placeExecutable(from, pluginDir);
  const check = await checkInstalled(installed, context);
  progressLine.done();
  if (context.json) printJson({ installed, source, commit, check });
  else
    process.stdout.write(
      `installed ${installed}${commit === undefined ? "" : ` (commit ${commit.slice(0, 12)})`}: ${check}\n`,
    );
  return 0;
}

/** Where the plugin's files are: a git URL's checkout (and its commit), or the local path. */
async function locateSource(
  source: string,
  flags: InstallFlags,
  cacheDir: string,
): Promise<{ from: string; commit: string | undefined }> {
  let from: string;
  let commit: string | undefined;
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
  const name = pkg?.manifest.id ?? basename(source).replace(/\.git$/, "");
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
