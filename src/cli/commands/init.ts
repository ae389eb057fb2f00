// `plugwire init <dir>`: a working project with a .proto, code generation, a plugin, a host and
// tests, from templates/init/ in the package.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { UsageError } from "../context.ts";
import { packageInfo, packageRoot } from "../package-info.ts";

export interface InitFlags {
  /**
   * The dependency spec written for plugwire. Default: the spec of the project this command runs
   * in when it depends on plugwire (a tarball or a git URL stays what it was), else `^<version>`.
   */
  plugwire?: string;
}

/** Files whose `{{name}}`-style placeholders are filled in. */
const templated = ["package.json", "README.md", "src/handshake.ts"];

export async function init(dir: string, flags: InitFlags): Promise<number> {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new UsageError(`${dir} exists and is not empty; name a new folder (plugwire init <dir>)`);
  const name = packageName(basename(target));
  const values: Record<string, string> = {
    name,
    plugwireSpec: flags.plugwire ?? enclosingSpec(dirname(target)) ?? `^${packageInfo().version}`,
    cookieKey: `${name.replace(/[^A-Za-z0-9]+/g, "_").toUpperCase()}_PLUGIN`,
    cookieValue: randomBytes(16).toString("hex"),
  };
  await cp(join(packageRoot, "templates/init"), target, { recursive: true });
  try {
    // npm never packs a file named .gitignore, so the template holds it as `gitignore`.
    await rename(join(target, "gitignore"), join(target, ".gitignore"));
    for (const file of templated) {
      const path = join(target, file);
      const text = await readFile(path, "utf8");
      await writeFile(
        path,
        text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole),
      );
    }
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw error;
  }
  const rel = relative(process.cwd(), target);
  const where = rel === "" ? "." : rel.startsWith("..") ? target : rel;
  process.stdout.write(
    `Created ${name} in ${where}: a Greeter service (proto/), its plugin (src/plugin.ts), a host (src/host.ts) and tests.\n\n` +
      `  cd ${where}\n  npm install\n  npm test\n  npm run host -- Ada\n`,
  );
  return 0;
}

/** A valid npm package name from a folder name. */
function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  return name === "" ? "plugwire-plugin" : name;
}

/**
 * How the nearest project at or above `dir` depends on plugwire, with a relative `file:` path made
 * absolute, so a scaffold made inside a project installs the same plugwire as it.
 */
function enclosingSpec(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, "package.json");
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
        for (const field of ["dependencies", "devDependencies"]) {
          const spec = (pkg[field] as Record<string, unknown> | undefined)?.plugwire;
          if (typeof spec !== "string") continue;
          const path = spec.startsWith("file:") ? spec.slice("file:".length) : undefined;
          return path === undefined || isAbsolute(path) ? spec : `file:${resolve(at, path)}`;
        }
      } catch {
        // not a readable package.json: keep looking above it
      }
    }
    if (dirname(at) === at) return undefined;
  }
}
