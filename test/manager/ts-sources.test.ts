// TypeScript plugins from a source folder and from git, with real dependencies from the npm
// registry: installed and bundled into the cache, never run in place, nothing left on failure.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ServiceManager } from "../../src/config/service-manager.ts";
import { Provider } from "../../src/gen/plugwire/manifest/v1/manifest_pb.js";
import type { PluginError } from "../../src/index.ts";
import { buildSource } from "../../src/manager/index.ts";
import { git, startGitDaemon } from "./git-daemon.ts";
import { tempDir } from "./support.ts";

const handshake = `{ magicCookieKey: "USERS_PLUGIN", magicCookieValue: "users", protocolVersion: 1 }`;
const header = (cacheDir: string) =>
  `[manager]\ncache_dir = "${cacheDir}"\nstart_timeout_ms = 20000\n[manager.handshake]\nmagic_cookie_key = "USERS_PLUGIN"\nmagic_cookie_value = "users"\n\n`;

/** Writes a plugin source folder: plugwire.json, main.ts and whatever else `files` holds. */
function writeSource(dir: string, id: string, main: string, files: Record<string, string> = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "plugwire.json"),
    JSON.stringify({ id, version: "0.1.0", entry: "main.ts" }),
  );
  writeFileSync(join(dir, "main.ts"), main);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** Every path under `dir`, relative, sorted: to show a folder was not written to. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

// package.json allows ms ^2.0.0; the lock file pins 2.0.0, so `npm install` would pick a newer one.
const msPlugin = {
  main: `import ms from "ms";
import msPackage from "ms/package.json" with { type: "json" };
import { serveProviders } from "plugwire/manager";
await serveProviders({
  handshake: ${handshake},
  manifest: { id: "ts-dep" },
  providers: { duration: { execute: ({ text }: { text: string }) => ({ ms: ms(text), version: msPackage.version }) } },
});
`,
  files: {
    "package.json": JSON.stringify({
      name: "ts-dep",
      private: true,
      type: "module",
      dependencies: { ms: "^2.0.0" },
    }),
    "package-lock.json": JSON.stringify({
      name: "ts-dep",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": { name: "ts-dep", dependencies: { ms: "^2.0.0" } },
        "node_modules/ms": {
          version: "2.0.0",
          resolved: "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
          integrity:
            "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
          license: "MIT",
        },
      },
    }),
  },
};

const execute = async (manager: ServiceManager, name: string, input: unknown) =>
  JSON.parse(
    (
      await manager
        .plugin(name)
        .client(Provider)
        .execute({ name: "duration", inputJson: JSON.stringify(input) }, { timeoutMs: 60_000 })
    ).outputJson,
  );

describe("TypeScript plugin sources with dependencies", () => {
  it("installs a registry dependency as locked (npm ci) and runs one bundle from the cache, from a folder and from git", async () => {
    using tmp = tempDir();
    const src = join(tmp.dir, "ts-dep");
    writeSource(src, "ts-dep", msPlugin.main, msPlugin.files);
    const before = tree(src);
    const repo = join(tmp.dir, "repos/ts-dep.git");
    writeSource(repo, "ts-dep", msPlugin.main, { ...msPlugin.files, "README.md": "from git\n" });
    git(repo, "init", "--quiet", "--initial-branch=main");
    git(repo, "add", ".");
    git(repo, "commit", "--quiet", "-m", "ts plugin with a dependency");
    using daemon = await startGitDaemon(join(tmp.dir, "repos"));
    const cache = join(tmp.dir, "cache");
    const config = join(tmp.dir, "plugwire.toml");
    writeFileSync(
      config,
      `${header(cache)}[services.folder]\ndriver = "./ts-dep"\n[services.git]\ndriver = "${daemon.url("ts-dep.git")}"\n`,
    );
    const progress: string[] = [];
    await using manager = await ServiceManager.load(config, {
      onProgress: (m) => progress.push(m),
      supervise: { autoRestart: false, healthIntervalMs: 0 },
    });
    for (const name of ["folder", "git"])
      assert.deepEqual(
        await execute(manager, name, { text: "2 days" }),
        { ms: 172_800_000, version: "2.0.0" },
        name,
      );
    assert.ok(
      progress.some((p) => p.startsWith("cloning git://")),
      progress.join("\n"),
    );
    assert.equal(
      progress.filter((p) => p === "installing dependencies (npm ci, --ignore-scripts)").length,
      2,
      progress.join("\n"),
    );
    assert.deepEqual(tree(src), before, "the source folder is not written to");

    // Two builds (the git tree has a README more), each one bundle, its startup snapshot
    // and its record (src/sources/snapshot.ts) and its launcher, nothing else.
    const builds = readdirSync(join(cache, "builds"));
    assert.equal(builds.length, 2, builds.join(", "));
    for (const build of builds)
      assert.deepEqual(tree(join(cache, "builds", build)), [
        "build.json",
        "bundle.mjs",
        "bundle.mjs.map",
        "bundle.snapshot.blob",
        "bundle.snapshot.json",
        "plugin",
        "plugwire.json",
      ]);
    // The process runs the bundle, and plugwire/plugin is the bundle's first module.
    const pid = manager.plugin("folder").connection!.info.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    assert.ok(
      cmdline.some((a) => a.endsWith("/bundle.mjs")),
      cmdline.join(" "),
    );
    assert.ok(cmdline.includes("--snapshot-blob"), cmdline.join(" "));
    // The bundle names no paths (its hash must not depend on where the cache is); its source
    // map says which module each stretch of it comes from.
    const map = `${cmdline.find((a) => a.endsWith("/bundle.mjs"))!}.map`;
    const modules = modulesInOrder(JSON.parse(readFileSync(map, "utf8")));
    // (CommonJS dependencies and the require() shims of Node's modules come first as lazy
    // wrappers, evaluated when first required.)
    const first = modules.find(
      (m) => !m.includes("node_modules/") && !m.startsWith("plugwire-builtin:"),
    );
    assert.match(first!, /\/src\/internal\//, modules.slice(0, 3).join("\n"));
    assert.match(modules.at(-1)!, /(^|\/)main\.ts$/);
  });

  it("a failed dependency install names the plugin and the step and leaves nothing behind", async () => {
    using tmp = tempDir();
    const src = join(tmp.dir, "bad-dep");
    writeSource(src, "bad-dep", `import "plugwire-test-no-such-package-7f3e";\n`, {
      "package.json": JSON.stringify({
        name: "bad-dep",
        dependencies: { "plugwire-test-no-such-package-7f3e": "1.0.0" },
      }),
    });
    const before = tree(src);
    const cache = join(tmp.dir, "cache");
    const error = await buildSource(src, { cacheDir: cache }).then(
      () => assert.fail("the build should fail"),
      (e: unknown) => e as PluginError,
    );
    assert.equal(error.code, "BUILD_FAILED");
    assert.equal(error.plugin, "bad-dep");
    assert.equal(error.details.step, "npm install");
    assert.match(error.message, /npm install failed for the source in /);
    assert.match(error.message, /E404|404 Not Found/);
    assert.deepEqual(readdirSync(join(cache, "builds")), [], "no staging folder, no cache entry");
    assert.deepEqual(tree(src), before, "nothing written to the plugin folder");

    // An import that does not resolve fails at the bundling step, with the file as the author knows it.
    writeFileSync(join(src, "package.json"), "{}");
    const bundling = await buildSource(src, { cacheDir: cache }).then(
      () => assert.fail("the build should fail"),
      (e: unknown) => e as PluginError,
    );
    assert.equal(bundling.details.step, "esbuild");
    assert.match(bundling.message, new RegExp(`${src}/main\\.ts:1:7: ERROR: Could not resolve`));
    assert.deepEqual(readdirSync(join(cache, "builds")), []);
  });

  it("a dependency's install script runs only when the service allows install scripts; its import-time banner does not break the handshake", async () => {
    using tmp = tempDir();
    const src = join(tmp.dir, "scripted");
    const marker = join(tmp.dir, "postinstall-ran");
    writeSource(
      src,
      "scripted",
      `import { serveProviders } from "plugwire/manager";
import { answer } from "with-script";
await serveProviders({ handshake: ${handshake}, manifest: { id: "scripted" }, providers: { duration: { execute: () => answer } } });
`,
      {
        "package.json": JSON.stringify({
          name: "scripted",
          dependencies: { "with-script": "file:./with-script" },
        }),
        "with-script/package.json": JSON.stringify({
          name: "with-script",
          version: "1.0.0",
          type: "module",
          main: "index.js",
          scripts: {
            postinstall: `node -e "require('fs').appendFileSync(${JSON.stringify(marker).replace(/"/g, "'")}, 'ran\\n')"`,
          },
        }),
        // A banner at import time: bundled after plugwire/plugin, it cannot reach the handshake line.
        "with-script/index.js":
          'console.log("with-script 1.0.0 loaded");\nexport const answer = 42;\n',
      },
    );
    const config = join(tmp.dir, "plugwire.toml");
    writeFileSync(
      config,
      `${header(join(tmp.dir, "cache"))}[services.off]\ndriver = "./scripted"\n[services.on]\ndriver = "./scripted"\nallow_install_scripts = true\n`,
    );
    await using manager = await ServiceManager.load(config, {
      supervise: { autoRestart: false, healthIntervalMs: 0 },
    });
    assert.equal(await execute(manager, "off", {}), 42);
    assert.equal(existsSync(marker), false, "install scripts are off by default");
    assert.equal(await execute(manager, "on", {}), 42);
    assert.equal(readFileSync(marker, "utf8"), "ran\n", "allowed: the postinstall ran once");
  });

  it("builds a cached plugin again when another node built its startup snapshot (a node upgrade)", async () => {
    using tmp = tempDir();
    const src = join(tmp.dir, "plain");
    writeSource(
      src,
      "plain",
      `import { serveProviders } from "plugwire/manager";
await serveProviders({ handshake: ${handshake}, manifest: { id: "plain" }, providers: { duration: { execute: () => ({ ms: 1 }) } } });
`,
      { "package.json": JSON.stringify({ name: "plain" }) },
    );
    const cache = join(tmp.dir, "cache");
    const first = await buildSource(src, { cacheDir: cache });
    assert.equal(first.cached, false);
    assert.equal((await buildSource(src, { cacheDir: cache })).cached, true, "same node: reused");
    const recordFile = join(cache, "builds", first.hash, "bundle.snapshot.json");
    const record = JSON.parse(readFileSync(recordFile, "utf8"));
    const bundle = readFileSync(join(cache, "builds", first.hash, "bundle.mjs"));
    writeFileSync(
      recordFile,
      JSON.stringify({ ...record, node: { ...record.node, versions: "another node" } }),
    );
    const again = await buildSource(src, { cacheDir: cache });
    assert.equal(again.cached, false, "the snapshot of another node: built again");
    assert.equal(again.hash, first.hash);
    assert.equal(JSON.parse(readFileSync(recordFile, "utf8")).node.versions, record.node.versions);
    assert.deepEqual(
      readFileSync(join(cache, "builds", first.hash, "bundle.mjs")),
      bundle,
      "the same bundle",
    );
  });
});

/** The sources of a source map, one per stretch of the generated file that comes from it, in order. */
function modulesInOrder(map: { sources: string[]; mappings: string }): string[] {
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const order: number[] = [];
  let source = 0;
  for (const segment of map.mappings.split(/[;,]/)) {
    // Base64 VLQ fields: generated column, then the source index (relative), line, column.
    const fields: number[] = [];
    let value = 0;
    let shift = 0;
    for (const char of segment) {
      const digit = digits.indexOf(char);
      value += (digit & 31) << shift;
      shift += 5;
      if ((digit & 32) === 0) {
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
    }
    if (fields.length < 4) continue;
    source += fields[1]!;
    if (order.at(-1) !== source) order.push(source);
  }
  return order.map((i) => map.sources[i]!);
}
