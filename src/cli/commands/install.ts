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
  let from = source;
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
  let installed: string;
  if (statSync(from).isDirectory()) {
    const manifestFile = findPackageManifest(from);
    const pkg = manifestFile === undefined ? undefined : await readPackageManifest(manifestFile);
    const name = pkg?.manifest.id ?? basename(source).replace(/\.git$/, "");
    installed = join(pluginDir, name);
    const language = sourceLanguage(from);
    const prebuilt = pkg !== undefined && language !== "go" && !/\.(m|c)?[jt]s$/.test(pkg.entry);
    await rm(installed, { recursive: true, force: true });
    if (prebuilt) {
      progress(`copying package ${name}`);
      await cp(from, installed, { recursive: true });
    } else {
      const built = await buildSource(from, {
        cacheDir,
        onProgress: progress,
        allowInstallScripts: flags.allowScripts === true,
      });
      progress(
        built.cached
          ? `reusing build ${built.hash.slice(0, 12)}`
          : `built ${built.hash.slice(0, 12)}`,
      );
      await cp(join(built.executable, ".."), installed, { recursive: true });
      if (findPackageManifest(installed) === undefined) {
        // A Go source without a manifest installs as a bare executable.
        await rm(installed, { recursive: true, force: true });
        await cp(built.executable, installed);
        await chmod(installed, 0o755);
      }
    }
  } else {
    installed = join(pluginDir, basename(from));
    progress(`copying ${basename(from)}`);
    await cp(from, installed);
    await chmod(installed, 0o755);
  }
  let check = "not checked (no handshake given)";
  if (context.handshake !== undefined) {
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
    check = "starts and answers";
  } else if ((await classify(installed)).kind === "skip") {
    throw new PluginError("NOT_A_PLUGIN", `installed ${installed} but it is not a plugin`);
  }
  progressLine.done();
  if (context.json) printJson({ installed, source, commit, check });
  else
    process.stdout.write(
      `installed ${installed}${commit === undefined ? "" : ` (commit ${commit.slice(0, 12)})`}: ${check}\n`,
    );
  return 0;
}
