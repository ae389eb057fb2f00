// plugwire build through the real CLI: a TypeScript plugin bundled into one ES module serves
// calls when a host runs `node BUNDLE` itself, and a broken entry fails with esbuild's errors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startPlugin } from "../../src/index.ts";
import { PingPong } from "../fixtures/gen/grpctest_pb.js";
import { repoRoot, testHandshake } from "../support/fixture.ts";

const cli = join(repoRoot, "bin/plugwire.js");
let dir: string;
const plugwire = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "plugwire-build-"));
  // `sideEffects: false` would let a bundler drop the entry's bare import: the build keeps it.
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "p", type: "module", sideEffects: false }),
  );
  writeFileSync(
    join(dir, "plugin.ts"),
    `import { implement, serve } from "plugwire/plugin";
import { PingPong } from ${JSON.stringify(join(repoRoot, "test/fixtures/gen/grpctest_pb.js"))};
const handshake = ${JSON.stringify(testHandshake)};
await serve({ handshake, services: [implement(PingPong, { ping: () => ({ msg: "pong from the bundle" }) })] });
`,
  );
  writeFileSync(join(dir, "broken.ts"), `import "./no-such-module.ts";\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("plugwire build", () => {
  it("bundles an entry that a host runs with node and calls", { timeout: 90_000 }, async () => {
    const run = plugwire("build", "plugin.ts");
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /run it as: node plugin\.bundle\.mjs/);
    const bundle = join(dir, "plugin.bundle.mjs");
    assert.ok(existsSync(`${bundle}.map`), "a source map beside the bundle");
    // Node's modules come through require() (the banner's createRequire is the one import).
    const imports = readFileSync(bundle, "utf8").match(/from\s*"node:[a-z_/]+"/g) ?? [];
    assert.deepEqual(imports, ['from "node:module"']);
    const plugin = await startPlugin({
      cmd: process.execPath,
      args: [bundle],
      handshake: testHandshake,
      plugins: { pingpong: PingPong },
      startTimeoutMs: 30_000,
    });
    try {
      assert.deepEqual((await plugin.dispense("pingpong").ping({})).msg, "pong from the bundle");
    } finally {
      await plugin.kill();
    }
  });

  it("fails with esbuild's error at the author's file", { timeout: 60_000 }, () => {
    const run = plugwire("build", "broken.ts", "--out", "out/broken.mjs");
    assert.equal(run.status, 1);
    assert.match(run.stderr, /\[BUILD_FAILED\] esbuild failed for broken\.ts/);
    assert.match(run.stderr, /broken\.ts:1:7: ERROR: Could not resolve "\.\/no-such-module\.ts"/);
    assert.equal(existsSync(join(dir, "out/broken.mjs")), false);
  });

  it("refuses an entry that is not a file (usage, exit 2)", () => {
    const run = plugwire("build", "missing.ts");
    assert.equal(run.status, 2);
    assert.match(run.stderr, /missing\.ts is not a file/);
  });
});
