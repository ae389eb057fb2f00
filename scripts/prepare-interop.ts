// Builds what the interop suites run: the Go harness and go-plugin's own examples (from the
// go-plugin module at the version interop/go/go.mod pins), and a Python venv for the grpcio
// plugin. Idempotent and incremental: Go caches builds; the venv is rebuilt only when
// requirements.txt changes.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const interopBin = join(root, ".cache/interop-go");
export const venv = join(root, ".cache/venv");

const goExamples: Array<[name: string, pkg: string]> = [
  ["kv-example-host", "github.com/hashicorp/go-plugin/examples/grpc"],
  ["kv-example-plugin", "github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc"],
  ["bidirectional-example-host", "github.com/hashicorp/go-plugin/examples/bidirectional"],
  [
    "bidirectional-example-plugin",
    "github.com/hashicorp/go-plugin/examples/bidirectional/plugin-go-grpc",
  ],
  // go-plugin's net/rpc examples: the Greeter host runs ./plugin/greeter from its cwd.
  ["basic-example-host", "github.com/hashicorp/go-plugin/examples/basic"],
  ["basic-example-greeter", "github.com/hashicorp/go-plugin/examples/basic/plugin"],
  ["kv-example-plugin-netrpc", "github.com/hashicorp/go-plugin/examples/grpc/plugin-go-netrpc"],
  // The negotiated host runs ./kv-plugin from its cwd (version 2: net/rpc, 3: gRPC).
  ["negotiated-example-host", "github.com/hashicorp/go-plugin/examples/negotiated"],
  ["negotiated-example-plugin", "github.com/hashicorp/go-plugin/examples/negotiated/plugin-go"],
];

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

export function buildGo(): void {
  const dir = join(root, "interop/go");
  mkdirSync(interopBin, { recursive: true });
  run("go", ["build", "-o", `${interopBin}/`, "./cmd/..."], dir);
  for (const [name, pkg] of goExamples)
    run("go", ["build", "-o", join(interopBin, name), pkg], dir);
}

export function buildPythonVenv(): void {
  const requirements = join(root, "examples/kv/plugin-python/requirements.txt");
  const stamp = join(venv, ".requirements-sha256");
  const digest = createHash("sha256").update(readFileSync(requirements)).digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
  run("python3", ["-m", "venv", "--clear", venv], root);
  run(
    join(venv, "bin/pip"),
    ["install", "--quiet", "--disable-pip-version-check", "-r", requirements],
    root,
  );
  writeFileSync(stamp, digest);
}

if (import.meta.main) {
  const started = Date.now();
  buildGo();
  buildPythonVenv();
  console.log(`interop prerequisites ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
