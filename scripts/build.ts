// Compiles the package into dist/ (`npm run build`). It is also the `prepare` script, which npm
// runs before `npm pack`/`publish`, after a plain `npm install` here, and when a project installs
// plugwire from a git URL (npm installs the devDependencies for it, so the build has its Node 24).
// tsc emits JavaScript, declarations and source maps for src/; the generated protobuf modules are
// already JavaScript with hand-checked declarations from protoc-gen-es, so they are copied as they
// are (declarations derived from their .js would lose the exported types).
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(`${root}/node_modules/.bin/tsc`, ["-p", "tsconfig.build.json"], {
  cwd: root,
  // stdout stays clean for `npm pack --json`, which runs this as prepack.
  stdio: ["ignore", process.stderr, process.stderr],
});
cpSync(`${root}/src/gen`, `${root}/dist/gen`, {
  recursive: true,
  filter: (path) => !/\.(js|ts)$/.test(path) || /_pb\.(js|d\.ts)$/.test(path),
});
console.error("built dist/");
