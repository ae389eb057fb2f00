// `plugwire init <dir>`: a working project with a .proto, code generation, a plugin, a host and
// tests, from templates/init/ in the package.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { cp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { UsageError } from "../context.ts";
import { packageInfo, packageRoot } from "../package-info.ts";

export interface InitFlags {
  /** The dependency spec written for plugwire (default `^<this version>`). */
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
    plugwireSpec: flags.plugwire ?? `^${packageInfo().version}`,
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
