// go-plugin v1.8.0's own net/rpc examples, both ways: its example hosts run plugwire's TypeScript
// plugins unmodified, and plugwire's host runs its Go plugins. examples/basic (the Greeter), the
// net/rpc half of examples/grpc (KV_PROTO=netrpc) and examples/negotiated (version 2 net/rpc,
// version 3 gRPC).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { KV } from "../../examples/kv/gen/kv_pb.js";
import { startPlugin } from "../../src/index.ts";
import {
  basicHandshake,
  Greeter,
  KVNetRpc,
  netrpcPluginCmd,
  putArgs,
} from "../fixtures/netrpc-shared.ts";
import { recordingLogger, waitFor } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a go-plugin example host in `cwd`; it prints its result (and the basic host its log) on stdout. */
function runHost(binary: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Promise<Run>((resolve) => {
    execFile(
      goBinary(binary),
      args,
      { cwd, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh working directory (the KV plugins write `kv_<key>` there), removed after the test. */
function workDir() {
  const dir = mkdtempSync(join(tmpdir(), "pw-netrpc-ex-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An executable at `path` that runs one of the TypeScript net/rpc fixtures. */
function script(path: string, fixture: string, ...args: string[]): void {
  writeFileSync(path, `#!/bin/sh\nexec "${netrpcPluginCmd}" ${[fixture, ...args].join(" ")}\n`);
  chmodSync(path, 0o755);
}

function assertRan(run: Run): void {
  assert.equal(run.code, 0, `host failed:\n${run.stdout}\n${run.stderr}`);
}

describe("go-plugin's examples/basic (Greeter)", () => {
  it("go-plugin's host runs the TypeScript greeter as ./plugin/greeter", async () => {
    using work = workDir();
    mkdirSync(join(work.dir, "plugin"));
    script(join(work.dir, "plugin/greeter"), "greeter");
    const run = await runHost("basic-example-host", [], work.dir);
    assertRan(run);
    // The host prints the greeting, and its hclog (on stdout) mirrors the plugin's log lines.
    assert.match(run.stdout, /^Hello!$/m);
    assert.match(run.stdout, /plugin\.greeter: message from plugin: foo=bar/);
    assert.match(run.stdout, /plugin\.greeter: message from GreeterHello\.Greet/);
    assert.match(run.stdout, /plugin process exited/);
  });

  it("plugwire's host runs go-plugin's Go greeter", async () => {
    const { logger, entries } = recordingLogger();
    await using plugin = await startPlugin({
      cmd: goBinary("basic-example-greeter"),
      handshake: basicHandshake,
      plugins: { greeter: Greeter },
      logger,
    });
    assert.equal(plugin.protocol, "netrpc");
    assert.equal(await plugin.dispense("greeter").Greet(null), "Hello!");
    await waitFor(
      () => entries.some((e) => e.message === "message from GreeterHello.Greet"),
      5000,
      "the Go greeter's log line",
    );
    assert.equal(entries.find((e) => e.message === "message from plugin")?.fields.foo, "bar");
  });
});

describe("go-plugin's examples/grpc with KV_PROTO=netrpc", () => {
  const trailer = "\n\nWritten from plugin-go-netrpc";

  for (const [label, plugin] of [
    ["the TypeScript KV plugin", `${netrpcPluginCmd} kv`],
    ["go-plugin's plugin-go-netrpc", goBinary("kv-example-plugin-netrpc")],
  ] as const) {
    it(`go-plugin's KV host runs ${label}: put writes kv_<key>, get reads it back`, async () => {
      using work = workDir();
      const env = { KV_PROTO: "netrpc", KV_PLUGIN: plugin };
      assertRan(await runHost("kv-example-host", ["put", "hello", "world"], work.dir, env));
      assert.equal(readFileSync(join(work.dir, "kv_hello"), "utf8"), `world${trailer}`);
      const get = await runHost("kv-example-host", ["get", "hello"], work.dir, env);
      assertRan(get);
      assert.equal(get.stdout, `world${trailer}\n`);
    });
  }

  it("plugwire's host runs plugin-go-netrpc (map[string]interface{} args, []byte reply)", async () => {
    using work = workDir();
    await using plugin = await startPlugin({
      cmd: goBinary("kv-example-plugin-netrpc"),
      cwd: work.dir,
      handshake: basicHandshake,
      plugins: { kv: KVNetRpc },
    });
    const kv = plugin.dispense("kv");
    assert.equal(await kv.Put(putArgs("hello", Buffer.from("world"))), null);
    assert.equal(readFileSync(join(work.dir, "kv_hello"), "utf8"), `world${trailer}`);
    assert.equal(Buffer.from(await kv.Get("hello")).toString(), `world${trailer}`);
  });
});

describe("go-plugin's examples/negotiated (version 2 net/rpc, version 3 gRPC)", () => {
  const expected = "world\n\nWritten from plugin version 3\nRead by plugin version 2\n\n";

  for (const [label, install] of [
    ["the TypeScript plugin", (path: string) => script(path, "kv", "--negotiated")],
    [
      "go-plugin's plugin-go",
      (path: string) => {
        writeFileSync(path, `#!/bin/sh\nexec "${goBinary("negotiated-example-plugin")}"\n`);
        chmodSync(path, 0o755);
      },
    ],
  ] as const) {
    it(`go-plugin's host negotiates both protocols with ${label} as ./kv-plugin`, async () => {
      using work = workDir();
      install(join(work.dir, "kv-plugin"));
      // Put over gRPC (the host offers version 3 only), get over net/rpc (version 2 only).
      const put = await runHost("negotiated-example-host", ["put", "hello", "world"], work.dir, {
        KV_PROTO: "grpc",
      });
      assertRan(put);
      const get = await runHost("negotiated-example-host", ["get", "hello"], work.dir, {
        KV_PROTO: "netrpc",
      });
      assertRan(get);
      assert.equal(get.stdout, expected);
    });
  }

  it("plugwire's host negotiates both protocols with go-plugin's plugin-go", async () => {
    using work = workDir();
    const start = <V extends Record<number, Record<string, typeof KV | typeof KVNetRpc>>>(
      versionedPlugins: V,
    ) =>
      startPlugin({
        cmd: goBinary("negotiated-example-plugin"),
        cwd: work.dir,
        handshake: basicHandshake,
        versionedPlugins,
      });
    {
      await using grpc = await start({ 3: { kv: KV } });
      assert.equal(grpc.negotiatedVersion, 3);
      assert.equal(grpc.protocol, "grpc");
      await grpc.client(KV).put({ key: "hello", value: Buffer.from("world") });
    }
    {
      await using netrpc = await start({ 2: { kv: KVNetRpc } });
      assert.equal(netrpc.negotiatedVersion, 2);
      assert.equal(netrpc.protocol, "netrpc");
      const value = await netrpc.dispense("kv").Get("hello");
      assert.equal(Buffer.from(value).toString(), expected.slice(0, -1));
    }
    {
      // Both offered: the plugin picks the highest, gRPC.
      await using both = await start({ 2: { kv: KVNetRpc }, 3: { kv: KV } });
      assert.equal(both.negotiatedVersion, 3);
      assert.equal(both.protocol, "grpc");
    }
  });
});
