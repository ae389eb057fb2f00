// `npm run docs`: the API reference builds without a warning (TypeDoc, warnings are errors), and
// every relative link in README.md, CHANGELOG.md and docs/*.md points at a file that exists and,
// with a #fragment, at a heading that exists in it.
import { execFileSync } from "node:child_process";
import { existsSync, globSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

try {
  execFileSync(join(root, "node_modules/.bin/typedoc"), [], { cwd: root, stdio: "inherit" });
} catch {
  console.error("docs: the API reference has warnings (above); they fail the check");
  process.exit(1);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[`*_]/g, "")
      .replace(/[^\p{L}\p{N}\s-]/gu, "")
      .replace(/\s/g, "-");
    let unique = slug;
    for (let n = 1; found.has(unique); n++) unique = `${slug}-${n}`;
    found.add(unique);
  }
  return found;
}

const pages = ["README.md", "CHANGELOG.md", ...globSync("docs/**/*.md", { cwd: root })].filter(
  (page) => !page.startsWith("docs/api/"),
);
const broken: string[] = [];
for (const page of pages) {
  const text = readFileSync(join(root, page), "utf8").replace(/```[\s\S]*?```/g, "");
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!) || target!.startsWith("mailto:")) continue;
    const [path, fragment] = target!.split("#") as [string, string | undefined];
    const file = path === "" ? join(root, page) : join(root, dirname(page), path);
    if (!existsSync(file)) {
      broken.push(`${page}: ${target} (no such file)`);
      continue;
    }
    if (fragment !== undefined && statSync(file).isFile() && file.endsWith(".md")) {
      if (!anchors(readFileSync(file, "utf8")).has(fragment))
        broken.push(`${page}: ${target} (no heading #${fragment} in ${relative(root, file)})`);
    }
  }
}
if (broken.length > 0) {
  console.error(`broken links:\n  ${broken.join("\n  ")}`);
  process.exit(1);
}
console.log(`docs: API reference built without warnings; links checked in ${pages.length} pages`);
