// The examples ported from go-plugin, as the README runs them: go-plugin's own example hosts
// (v1.8.0) run this folder's TypeScript plugins, and this folder's TypeScript hosts run
// go-plugin's Go plugins; the MuxBroker example runs against interop/go's netrpc-host and
// netrpc-plugin.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { goBinary } from "../../test/support/interop.ts";
import type { Run } from "./run.ts";
import { here, node, run, workDir } from "./run.ts";

const source = (path: string) => join(here, path);

/** An executable at `path` that runs one of the examples' TypeScript files. */
function script(path: string, file: string): void {
  writeFileSync(path, `#!/bin/sh\nexec "${node}" "${source(file)}"\n`);
  chmodSync(path, 0o755);
}

function ok(result: Run): string {
  assert.equal(result.code, 0, `failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe("examples/basic: the Greeter", () => {
  it("go-plugin's host runs greeter/plugin.ts as ./plugin/greeter", async () => {
    using work = workDir();
    mkdirSync(join(work.dir, "plugin"));
    script(join(work.dir, "plugin/greeter"), "greeter/plugin.ts");
    const out = ok(await run(goBinary("basic-example-host"), [], { cwd: work.dir }));
    assert.match(out, /^Hello!$/m);
    assert.match(out, /plugin\.greeter: message from plugin: foo=bar/);
  });

  it("greeter/host.ts runs go-plugin's Go greeter, and the TypeScript one", async () => {
    for (const plugin of [
      [goBinary("basic-example-greeter")],
      [node, source("greeter/plugin.ts")],
    ]) {
      const result = await run(node, [source("greeter/host.ts"), ...plugin]);
      assert.equal(ok(result), "Hello!\n");
      assert.match(result.stderr, /message from GreeterHello\.Greet/);
    }
  });
});

describe("examples/grpc with KV_PROTO=netrpc", () => {
  const written = "world\n\nWritten from plugin-go-netrpc";
  const tsPlugin = `${node} ${source("kv/plugin.ts")}`;

  it("go-plugin's KV host runs kv/plugin.ts: put writes kv_hello, get reads it", async () => {
    using work = workDir();
    const env = { KV_PROTO: "netrpc", KV_PLUGIN: tsPlugin };
    const host = goBinary("kv-example-host");
    ok(await run(host, ["put", "hello", "world"], { cwd: work.dir, env }));
    assert.equal(readFileSync(join(work.dir, "kv_hello"), "utf8"), written);
    assert.equal(ok(await run(host, ["get", "hello"], { cwd: work.dir, env })), `${written}\n`);
  });

  it("kv/host.ts runs go-plugin's plugin-go-netrpc, and reads back through the TypeScript plugin", async () => {
    using work = workDir();
    const host = [source("kv/host.ts")];
    const go = { KV_PLUGIN: goBinary("kv-example-plugin-netrpc") };
    ok(await run(node, [...host, "put", "hello", "world"], { cwd: work.dir, env: go }));
    const get = await run(node, [...host, "get", "hello"], {
      cwd: work.dir,
      env: { KV_PLUGIN: tsPlugin },
    });
    assert.equal(ok(get), `${written}\n`);
  });
});

describe("examples/negotiated: version 2 over net/rpc, version 3 over gRPC", () => {
  it("go-plugin's host puts over gRPC and gets over net/rpc from negotiated/plugin.ts", async () => {
    using work = workDir();
    script(join(work.dir, "kv-plugin"), "negotiated/plugin.ts");
    const host = goBinary("negotiated-example-host");
    const at = (KV_PROTO: string) => ({ cwd: work.dir, env: { KV_PROTO } });
    ok(await run(host, ["put", "hello", "world"], at("grpc")));
    const out = ok(await run(host, ["get", "hello"], at("netrpc")));
    assert.equal(out, "world\n\nWritten from plugin version 3\nRead by plugin version 2\n\n");
  });
});

describe("bidirectional: callbacks both ways through the MuxBroker", () => {
  const expected = [
    "the plugin added through the host's Adder: 2 + 3 = 5",
    /the host added through the plugin's Adder \(id \d+\): 20 \+ 22 = 42/,
  ];
  for (const [label, plugin] of [
    ["the TypeScript plugin", () => [node, source("bidirectional/plugin.ts")]],
    ["interop/go's netrpc-plugin (go-plugin)", () => [goBinary("netrpc-plugin")]],
  ] as const) {
    it(`bidirectional/host.ts with ${label}`, async () => {
      const out = ok(await run(node, [source("bidirectional/host.ts"), ...plugin()]));
      const [first, second] = out.trim().split("\n");
      assert.equal(first, expected[0]);
      assert.match(second ?? "", expected[1] as RegExp);
    });
  }

  it("interop/go's netrpc-host (go-plugin) runs bidirectional/plugin.ts", async () => {
    const args = ["-scenario", "callback", "-cmd", node, "--", source("bidirectional/plugin.ts")];
    const report = JSON.parse(ok(await run(goBinary("netrpc-host"), args))) as {
      ok: boolean;
      result: { viaHost: number; viaPlugin: number };
    };
    assert.equal(report.ok, true);
    assert.equal(report.result.viaHost, 5);
    assert.equal(report.result.viaPlugin, 42);
  });
});
