import { existsSync, statSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { snapshotFiles } from "../../discovery/snapshot-record.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { bundle } from "../../sources/bundle.ts";
import { buildSnapshot, launcherScript } from "../../sources/snapshot.ts";
import { UsageError } from "../context.ts";
import { printJson } from "../output.ts";

export interface BuildFlags {
  /** The bundle to write. Default: `<entry name>.bundle.mjs` beside the entry. */
  out?: string | undefined;
  json?: boolean | undefined;
  /**
   * Also build the bundle's V8 startup snapshot and a launcher that starts it (src/sources/
   * snapshot.ts), as the manager does for the plugins it installs.
   */
  snapshot?: boolean | undefined;
}

/** The folder a build resolves the entry's imports from: the nearest one with a package.json. */
function packageRoot(entry: string): string {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return dirname(entry);
  }
}

/**
 * `plugwire build <entry> [--out FILE] [--snapshot]`: bundles a TypeScript (or JavaScript) plugin
 * entry into one ES module with plugwire's own bundler, the one the manager builds installed plugins with
 * (`plugwire/plugin` first, Node's modules through require(), a source map beside it). A host
 * that launches the plugin itself runs `node FILE` and gets the manager's start-up
 * (docs/performance.md, decision 15). `--snapshot` adds the bundle's startup snapshot and
 * `<bundle>.sh`, which starts it on this node binary and the bundle on any other (decision 16).
 * Exit 0, or 1 with esbuild's errors at the author's files (or why no snapshot could be built).
 */
export async function build(entryArg: string, flags: BuildFlags): Promise<number> {
  const entry = resolve(entryArg);
  if (!existsSync(entry) || !statSync(entry).isFile())
    throw new UsageError(`${entryArg} is not a file: give the plugin's entry module (plugin.ts)`);
  const out = resolve(
    flags.out ?? join(dirname(entry), `${basename(entry).replace(/\.[cm]?[jt]s$/, "")}.bundle.mjs`),
  );
  if (out === entry) throw new UsageError(`--out ${flags.out} would overwrite the entry`);
  const root = packageRoot(entry);
  const began = performance.now();
  const fail = (step: string, message: string, output = ""): never => {
    throw new PluginError(
      "BUILD_FAILED",
      `${step} failed for ${entryArg}: ${message}${output === "" ? "" : `\n${output}`}`,
      { details: { entry, step, output } },
    );
  };
  await bundle({ entry, staged: root, dir: root, outfile: out, fail });
  const launcher =
    flags.snapshot === true ? await snapshotAndLauncher(entry, root, out, fail) : undefined;
  const bytes = statSync(out).size;
  const ms = Math.round(performance.now() - began);
  const shown = (path: string) => relative(process.cwd(), path) || path;
  if (flags.json === true)
    printJson({
      entry,
      out,
      bytes,
      sourceMap: `${out}.map`,
      ms,
      ...(launcher === undefined ? {} : { snapshot: { ...snapshotFiles(out), launcher } }),
    });
  else
    process.stdout.write(
      `built ${shown(out)} (${Math.round(bytes / 1024)} KB, source map beside it${launcher === undefined ? "" : ", its startup snapshot and a launcher"}) in ${ms} ms\n${
        launcher === undefined
          ? `run it as: node ${shown(out)}`
          : `run it as: ${shown(launcher).includes("/") ? "" : "./"}${shown(launcher)} (the snapshot on this node binary, else node ${shown(out)})`
      }\n`,
    );
  return 0;
}

/** `--snapshot`: the blob and its record beside the bundle, and `<bundle>.sh` that starts it. */
async function snapshotAndLauncher(
  entry: string,
  root: string,
  out: string,
  fail: (step: string, message: string, output?: string) => never,
): Promise<string> {
  const built = await buildSnapshot({ entry, staged: root, dir: root, fail }, out);
  if (!built.ok)
    return fail("snapshot", `the bundle was written, but no startup snapshot: ${built.reason}`);
  const launcher = out.replace(/\.m?js$/, ".sh");
  await writeFile(launcher, launcherScript(basename(out), [], [], built.record));
  await chmod(launcher, 0o755);
  return launcher;
}
