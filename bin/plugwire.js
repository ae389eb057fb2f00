#!/usr/bin/env node
// The plugwire CLI launcher. Plain JavaScript that any Node can parse, so an old Node gets one
// clear sentence instead of a SyntaxError. Installed, it runs the compiled dist/; inside the
// repository (src/ present, a Node that strips types) it runs the sources, so it is never stale.
import { existsSync } from "node:fs";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `plugwire needs Node.js 22.12 or newer; this is Node.js ${process.versions.node}. ` +
      "Install a current LTS (https://nodejs.org) or run it with `npx -p node@24 plugwire …`.\n",
  );
  process.exit(1);
}
const source = new URL("../src/cli/main.ts", import.meta.url);
const fromSource = process.features.typescript && existsSync(source);
await import(fromSource ? source.href : new URL("../dist/cli/main.js", import.meta.url).href);
