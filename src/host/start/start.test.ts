// Ports of go-plugin's client_test.go happy paths (gRPC), run against the real fixture plugin.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { writeLauncher } from "../../../test/fixtures/hostile/launcher.ts";
import {
  processAlive,
  recordingLogger,
  socketDir,
  startFixture,
  testHandshake,
  testPlugins,
  waitFor,
  waitForExit,
} from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { attachPlugin, startPlugin } from "./start.ts";

describe("starting plugins (client_test.go)", () => {
  it("TestClient_grpc: dispenses, calls, and stops gracefully", async () => {
    using sockets = socketDir();
    const plugin = await startFixture("test-grpc", { unixSocketDir: sockets.dir });
    assert.equal(plugin.protocol, "grpc");
    assert.equal(plugin.network, "unix");
    assert.ok(plugin.address.startsWith(sockets.dir));
    assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
    await plugin.kill();
    const exit = await plugin.exited;
    assert.deepEqual(exit, { code: 0, signal: null, forced: false });
    assert.equal(processAlive(plugin.pid), false);
    assert.deepEqual(sockets.leftovers(), [], "the plugin removed its socket");
  });

  it("serves over TCP when asked, with and without AutoMTLS", async () => {
    for (const autoMtls of [false, true]) {
      await using plugin = await startFixture("test-grpc", { network: "tcp", autoMtls });
      assert.equal(plugin.network, "tcp");
      assert.match(plugin.address, /^127\.0\.0\.1:\d+$/);
      assert.equal(plugin.tls, autoMtls);
      assert.equal((await plugin.dispense("test").double({ Input: 4 })).Output, 8);
    }
  });

  it("TestClient_mtlsClient: AutoMTLS is on by default and calls work", async () => {
    await using plugin = await startFixture("test-grpc");
    assert.equal(plugin.tls, true);
    assert.equal((await plugin.dispense("test").double({ Input: 3 })).Output, 6);
  });

  it("TestClient_versionedClient: negotiates the highest common version", async () => {
    await using both = await startFixture("test-versioned", { versions: [1, 2, 3] });
    assert.equal(both.negotiatedVersion, 3);
    await using two = await startFixture("test-versioned", { versions: [2] });
    assert.equal(two.negotiatedVersion, 2);
    assert.equal((await two.dispense("test").double({ Input: 1 })).Output, 2);
  });

  it("TestClient_ping: ping works while the plugin lives and fails after kill", async () => {
    const plugin = await startFixture("test-grpc");
    await plugin.ping();
    await plugin.ping();
    await plugin.kill();
    await assert.rejects(
      plugin.ping(),
      (e: unknown) => e instanceof PluginError && e.code === "CLIENT_CLOSED",
    );
  });

  it("TestClient_grpcSyncStdio: plugin stdout/stderr reach SyncStdout/SyncStderr byte for byte", async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on("data", (c: Buffer) => out.push(c));
    stderr.on("data", (c: Buffer) => err.push(c));
    await using plugin = await startFixture("test-grpc", {
      syncStdout: stdout,
      syncStderr: stderr,
    });
    const big = Buffer.alloc(200_000, "x");
    await plugin
      .dispense("test")
      .printStdio({ stdout: Buffer.from("hello stdout\n"), stderr: Buffer.from("hello stderr\n") });
    await plugin.dispense("test").printStdio({ stdout: big });
    await waitFor(() => Buffer.concat(out).length === 13 + big.length, 5000, "stdout sync");
    await waitFor(() => Buffer.concat(err).toString() === "hello stderr\n", 5000, "stderr sync");
    assert.equal(Buffer.concat(out).subarray(0, 13).toString(), "hello stdout\n");
    assert.ok(Buffer.concat(out).subarray(13).equals(big));
  });

  it("TestClient_SkipHostEnv: the host's environment reaches the plugin unless skipped", async () => {
    process.env.PLUGWIRE_TEST_HOST_VAR = "from-host";
    const seen = async (skipHostEnv: boolean) => {
      const { logger, entries } = recordingLogger();
      await using plugin = await startFixture("env", {
        args: ["PLUGWIRE_TEST_HOST_VAR"],
        skipHostEnv,
        logger,
      });
      await plugin.ping();
      return entries.find((e) => e.message === "environment")?.fields.value;
    };
    assert.equal(await seen(false), "from-host");
    assert.equal(await seen(true), "<unset>");
  });

  it("removes PLUGIN_* variables inherited from the host (§14.9)", async () => {
    process.env.PLUGIN_MULTIPLEX_GRPC = "true";
    try {
      const { logger, entries } = recordingLogger();
      await using plugin = await startFixture("env", {
        args: ["PLUGIN_MULTIPLEX_GRPC"],
        logger,
        autoMtls: false,
      });
      await plugin.ping();
      assert.equal(entries.find((e) => e.message === "environment")?.fields.value, "<unset>");
    } finally {
      delete process.env.PLUGIN_MULTIPLEX_GRPC;
    }
  });

  it("TestClient_SecureConfig: a wrong checksum refuses to start, the right one starts", async () => {
    await assert.rejects(
      startFixture("test-grpc", { secure: { checksum: "00".repeat(32) } }),
      (e: unknown) => {
        return (
          e instanceof PluginError &&
          e.code === "CHECKSUM_MISMATCH" &&
          e.plugin === "fixture-plugin"
        );
      },
    );
    // The verified file runs from its open descriptor, so use a launcher that does not look
    // for the plugin beside "$0" (test/fixtures/hostile/launcher.ts).
    const dir = mkdtempSync(join(tmpdir(), "pw-sum-"));
    try {
      const cmd = join(dir, "fixture-plugin");
      const checksum = await writeLauncher(cmd);
      await using plugin = await startPlugin({
        cmd,
        handshake: testHandshake,
        plugins: testPlugins,
        secure: { checksum },
        startTimeoutMs: 20_000,
      });
      await plugin.ping();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("TestClient_reattachGRPC: a second host attaches by reattach config and can stop the plugin", async () => {
    const first = await startFixture("test-grpc", { autoMtls: false, managed: false });
    const config = first.reattachConfig();
    assert.equal(config.protocolVersion, 1);
    assert.equal(config.pid, first.pid);
    const second = await attachPlugin({ reattach: config, plugins: testPlugins });
    assert.equal((await second.dispense("test").double({ Input: 5 })).Output, 10);
    await second.kill();
    await waitForExit(first.pid);
    await first.exited;
    await first.kill();
  });

  it("TestClient_reattachNotFound: attaching to a dead address fails with REATTACH_NOT_FOUND", async () => {
    await assert.rejects(
      attachPlugin({
        reattach: {
          protocol: "grpc",
          protocolVersion: 1,
          pid: 999_999,
          test: false,
          addr: { network: "unix", address: "/tmp/pw-nothing-here" },
        },
      }),
      (e: unknown) => e instanceof PluginError && e.code === "REATTACH_NOT_FOUND",
    );
  });
});
