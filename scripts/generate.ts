// Regenerates every protobuf module the project commits: `npm run generate`.
// One buf invocation per proto root, because go-plugin's example protos all use package `proto`.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const roots: Array<[protoDir: string, outDir: string]> = [
  ["proto", "src/gen"],
  ["examples/kv/proto", "examples/kv/gen"],
  ["examples/counter/proto", "examples/counter/gen"],
  ["test/fixtures/proto", "test/fixtures/gen"],
  ["examples/manager/users/proto", "examples/manager/users/gen"],
];

for (const [protoDir, outDir] of roots) {
  rmSync(new URL(`../${outDir}`, import.meta.url), { recursive: true, force: true });
  const template = {
    version: "v2",
    plugins: [{ local: "node_modules/.bin/protoc-gen-es", out: outDir, opt: ["target=js+dts"] }],
  };
  execFileSync(
    "node_modules/.bin/buf",
    ["generate", protoDir, "--template", JSON.stringify(template)],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  console.log(`generated ${outDir} from ${protoDir}`);
}
