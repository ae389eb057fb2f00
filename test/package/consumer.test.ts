// The package as a user gets it: `npm pack`, then a fresh project outside the repository installs
// the tarball and uses it — type-checked with skipLibCheck: false, a plain-JavaScript host and
// plugin on Node 24 and on the oldest Node the package supports, the installed CLI, and the
// `plugwire init` scaffold's own `npm install && npm test`. Catches a broken `files` list, a
// missing build step, declarations that do not check, and an entry that needs the sources.
import assert from "node:assert/strict";
import type { SpawnOptions } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

const ownPackage = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
  devDependencies: Record<string, string>;
};
/** The oldest Node the package supports, from `engines` (">=22.12" → "22.12"). */
const oldestNodeVersion = /(\d+\.\d+)/.exec(ownPackage.engines.node)![1]!;

/**
 * What a user's shell has: this test's Node (a current LTS) first on PATH, and none of the
 * repository's settings — above all not `--conditions=plugwire-source`, which would point
 * `plugwire` at sources the package does not ship.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`,
  };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT; // set by the runner around us; a nested `node --test` would report to it
  for (const key of Object.keys(env)) if (key.startsWith("npm_")) delete env[key];
  return env;
}

function run(cmd: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, env: userEnv(), encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from the line matching `mark` to the process's exit. */
  readonly afterMarkMs: number | undefined;
}

/** Runs a process to its exit (bounded by `deadlineMs`), timing the exit after a marked line. */
function finish(
  cmd: string,
  args: readonly string[],
  options: SpawnOptions & { deadlineMs: number; mark?: RegExp },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...options,
      env: userEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let markedAt: number | undefined;
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      if (markedAt === undefined && options.mark?.test(stdout)) markedAt = performance.now();
    });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${cmd} ${args.join(" ")} still running after ${options.deadlineMs} ms:\n${stdout}\n${stderr}`,
        ),
      );
    }, options.deadlineMs);
    let exitedAt = 0;
    child.once("error", reject);
    child.once("exit", () => {
      exitedAt = performance.now();
    });
    // "close" comes after "exit" and after stdout and stderr have ended: all output is in.
    child.once("close", (code) => {
      clearTimeout(deadline);
      resolve({
        code,
        stdout,
        stderr,
        afterMarkMs: markedAt === undefined ? undefined : exitedAt - markedAt,
      });
    });
  });
}

describe("the packed package installed in a fresh project", { timeout: 900_000 }, () => {
  let work: string;
  let tarball: string;
  let project: string;
  let oldestNode: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "plugwire-consumer-"));
    // npm pack runs `prepack` (the build) exactly as a publish would.
    const packed = JSON.parse(
      run("npm", ["pack", "--json", "--pack-destination", work], repoRoot),
    ) as Array<{ filename: string }>;
    tarball = join(work, packed[0]!.filename);

    project = join(work, "project");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "consumer",
        private: true,
        type: "module",
        dependencies: { plugwire: `file:${tarball}` },
        devDependencies: {
          typescript: ownPackage.devDependencies.typescript,
          "@types/node": ownPackage.devDependencies["@types/node"],
        },
      }),
    );
    cpSync(join(repoRoot, "test/package/consumer"), project, { recursive: true });
    // go-plugin's KV example as a user would lay it out: descriptors, shared handshake, plugin.
    for (const part of ["gen", "shared.ts", "plugin-ts"])
      cpSync(join(repoRoot, "examples/kv", part), join(project, "kv", part), { recursive: true });
    run("npm", ["install", "--no-audit", "--no-fund"], project);

    // The oldest supported Node, from the npm registry, kept between runs.
    const nodeDir = join(repoRoot, `.cache/node-${oldestNodeVersion}`);
    oldestNode = join(nodeDir, "node_modules/.bin/node");
    if (!existsSync(oldestNode)) {
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(join(nodeDir, "package.json"), '{"private":true}');
      run("npm", ["install", "--no-audit", "--no-fund", `node@${oldestNodeVersion}`], nodeDir);
    }
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("ships compiled JavaScript, declarations (generated code included), protos, templates and the CLI; no sources or tests", () => {
    const files = run("tar", ["tzf", tarball], work)
      .split("\n")
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ""));
    for (const expected of [
      "package.json",
      "LICENSE",
      "CHANGELOG.md",
      "README.md",
      "bin/plugwire.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/plugin/index.js",
      "dist/manager/index.d.ts",
      "dist/testing/index.js",
      "dist/rpc/index.js",
      "dist/rpc/index.d.ts",
      "dist/gen/plugin/grpc_broker_pb.js",
      "dist/gen/plugin/grpc_broker_pb.d.ts",
      "proto/plugin/grpc_broker.proto",
      "templates/init/package.json",
    ])
      assert.ok(files.includes(expected), `${expected} is missing from the package`);
    const stray = files.filter(
      (path) =>
        !path.startsWith("templates/") && /^src\/|\.test\.|\.bench\.|^test\/|^scripts\//.test(path),
    );
    assert.deepEqual(stray, [], "sources, tests and scripts stay out of the package");
  });

  it("type-checks a host and a plugin against the installed declarations (skipLibCheck: false)", () => {
    run(join(project, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], project);
  });

  for (const which of ["current", "oldest"] as const) {
    it(`a plain-JavaScript host runs a plugin and exits as soon as kill() resolves (${which} Node)`, async () => {
      const node = which === "current" ? process.execPath : oldestNode;
      const result = await finish(node, ["host.mjs"], {
        cwd: project,
        deadlineMs: 60_000,
        mark: /"killed":true/,
      });
      assert.equal(result.code, 0, result.stderr);
      const [calls, killed] = result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      assert.deepEqual(calls, { value: "world", missing: "NOT_FOUND", wire: "fast", tls: true });
      assert.equal(killed.state, "exited");
      if (which === "oldest")
        assert.ok(killed.node.startsWith(`${oldestNodeVersion}.`), killed.node);
      // killGraceMs is 120 s: a grace timer left behind would hold the process until the
      // deadline above; nothing else may keep it alive once kill() has resolved.
      assert.ok(
        result.afterMarkMs !== undefined && result.afterMarkMs < 5000,
        `exited ${result.afterMarkMs} ms after kill()`,
      );
    });
  }

  it("the host entry loads neither the manager nor node:http2 until they are needed", () => {
    const probe = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
      await import("plugwire");
      const own = loaded.filter((url) => url.includes("/node_modules/plugwire/"));
      console.log(JSON.stringify({
        modules: own.length,
        manager: own.filter((url) => url.includes("/dist/manager/")),
        builtins: process.moduleLoadList.filter((m) => /NativeModule (http2|tls|internal\\/http2)/.test(m)),
      }));`;
    const report = JSON.parse(
      run(process.execPath, ["--input-type=module", "-e", probe], project),
    ) as {
      modules: number;
      manager: string[];
      builtins: string[];
    };
    assert.deepEqual(report.manager, []);
    assert.deepEqual(report.builtins, []);
    assert.ok(report.modules > 10, `counted ${report.modules} plugwire modules`);
  });

  it("installs from a git URL too: npm builds it (prepare) and the entries load", {
    timeout: 300_000,
  }, () => {
    const fromGit = join(work, "from-git");
    mkdirSync(fromGit);
    writeFileSync(
      join(fromGit, "package.json"),
      '{"name":"from-git","private":true,"type":"module"}',
    );
    const commit = run("git", ["rev-parse", "HEAD"], repoRoot).trim();
    run("npm", ["install", "--no-audit", "--no-fund", `git+file://${repoRoot}#${commit}`], fromGit);
    const probe =
      'const [host, plugin, rpc] = await Promise.all([import("plugwire"), import("plugwire/plugin"), import("plugwire/rpc")]);' +
      "console.log(typeof host.startPlugin, typeof plugin.serve, typeof rpc.intercept);";
    assert.equal(
      run(process.execPath, ["--input-type=module", "-e", probe], fromGit).trim(),
      "function function function",
    );
  });

  it("the installed CLI answers --version and --help, on the oldest supported Node too", () => {
    const bin = join(project, "node_modules/.bin/plugwire");
    assert.equal(run(bin, ["--version"], project).trim(), ownPackage.version);
    assert.match(run(bin, ["--help"], project), /init \[options\] <dir>/);
    // Compiled JavaScript: the oldest supported Node runs it too, with no type stripping.
    const cli = join(project, "node_modules/plugwire/bin/plugwire.js");
    assert.equal(run(oldestNode, [cli, "--version"], project).trim(), ownPackage.version);
  });

  it("plugwire init scaffolds a project whose own npm install && npm test pass", {
    timeout: 600_000,
  }, async () => {
    const bin = join(project, "node_modules/.bin/plugwire");
    // As a user would: inside a project that installed plugwire (here from the tarball), the
    // scaffold depends on the same plugwire.
    run(bin, ["init", "demo"], project);
    const demo = join(project, "demo");
    assert.ok(existsSync(join(demo, ".gitignore")));
    const scaffold = JSON.parse(readFileSync(join(demo, "package.json"), "utf8"));
    assert.equal(scaffold.dependencies.plugwire, `file:${tarball}`);
    run("npm", ["install", "--no-audit", "--no-fund"], demo);
    const test = await finish("npm", ["test"], { cwd: demo, deadlineMs: 300_000 });
    assert.equal(test.code, 0, `${test.stdout}\n${test.stderr}`);
    assert.match(test.stdout, /# pass 2|ℹ pass 2/);
    assert.match(test.stdout, /# fail 0|ℹ fail 0/);
    const host = await finish("npm", ["run", "--silent", "host", "--", "Ada"], {
      cwd: demo,
      deadlineMs: 120_000,
    });
    assert.equal(host.code, 0, host.stderr);
    assert.match(host.stdout, /Hello, Ada!\nHello #1, Ada!\nHello #2, Ada!\nHello #3, Ada!/);
  });

  it("plugwire call, installed, calls a go-plugin Go plugin's methods by reflection", async () => {
    const bin = join(project, "node_modules/.bin/plugwire");
    const plugin = goBinary("kv-example-plugin");
    const dir = mkdtempSync(join(work, "kv-"));
    const cookie = ["--cookie", "BASIC_PLUGIN=hello"];
    run(
      bin,
      ["call", plugin, "proto.KV/Put", '{"key":"hello","value":"d29ybGQ="}', ...cookie],
      dir,
    );
    const got = JSON.parse(
      run(bin, ["call", plugin, "proto.KV/Get", '{"key":"hello"}', ...cookie], dir),
    ) as {
      value: string;
    };
    assert.match(Buffer.from(got.value, "base64").toString(), /^world/);
  });
});
