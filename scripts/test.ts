// `npm test` after typecheck and lint: builds the interop prerequisites, runs the Go harness's own
// tests (Go host ↔ Go plugin), then every node:test suite. Interop suites never skip: a missing
// prerequisite is a failure.
import { execFileSync, spawnSync } from "node:child_process";
import { globSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildGo, buildPythonVenv } from "./prepare-interop.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
buildGo();
buildPythonVenv();

console.log("\n== go test (interop harness: Go host <-> Go plugin on go-plugin v1.8.0)");
execFileSync("go", ["test", "-count=1", "./..."], {
  cwd: join(root, "interop/go"),
  stdio: "inherit",
});

const files = globSync(["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"], {
  cwd: root,
}).sort();
const filter = process.argv.slice(2);
const selected =
  filter.length === 0 ? files : files.filter((f) => filter.some((part) => f.includes(part)));
console.log(`\n== node --test (${selected.length} files)`);
const result = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-timeout=120000", ...selected],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_OPTIONS: withSourceCondition(process.env.NODE_OPTIONS) },
  },
);
process.exit(result.status ?? 1);

/** Examples import `plugwire` by name; inside the repository that resolves to src/ (.npmrc). */
function withSourceCondition(options = ""): string {
  const flag = "--conditions=plugwire-source";
  return options.includes(flag) ? options : `${options} ${flag}`.trim();
}
