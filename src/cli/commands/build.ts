import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PluginError } from "../../errors/plugin-error.ts";
import { bundle } from "../../sources/bundle.ts";
import { UsageError } from "../context.ts";
import { printJson } from "../output.ts";

export interface BuildFlags {
  /** The bundle to write. Default: `<entry name>.bundle.mjs` beside the entry. */
  out?: string | undefined;
  json?: boolean | undefined;
}

/** The folder a build resolves the entry's imports from: the nearest one with a package.json. */
function packageRoot(entry: string): string {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return dirname(entry);
  }
}

/**
 * `plugwire build <entry> [--out FILE]`: bundles a TypeScript (or JavaScript) plugin entry into
 * one ES module with plugwire's own bundler, the one the manager builds installed plugins with
 * (`plugwire/plugin` first, Node's modules through require(), a source map beside it). A host
 * that launches the plugin itself runs `node FILE` and gets the manager's start-up
 * (docs/performance.md, decision 15). Exit 0, or 1 with esbuild's errors at the author's files.
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
  await bundle({
    entry,
    staged: root,
    dir: root,
    outfile: out,
    fail: (step, message, output = "") => {
      throw new PluginError(
        "BUILD_FAILED",
        `${step} failed for ${entryArg}: ${message}${output === "" ? "" : `\n${output}`}`,
        { details: { entry, step, output } },
      );
    },
  });
  const bytes = statSync(out).size;
  const ms = Math.round(performance.now() - began);
  if (flags.json === true) printJson({ entry, out, bytes, sourceMap: `${out}.map`, ms });
  else
    process.stdout.write(
      `built ${relative(process.cwd(), out) || out} (${Math.round(bytes / 1024)} KB, source map beside it) in ${ms} ms\nrun it as: node ${relative(process.cwd(), out) || out}\n`,
    );
  return 0;
}
