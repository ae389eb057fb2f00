// plugwire's TypeScript host loads real go-plugin v1.8.0 plugins: our Go harness plugin and
// go-plugin's own KV example plugin.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { handshake as kvHandshake, plugins as kvPlugins } from "../../examples/kv/shared.ts";
import type { StartOptions } from "../../src/index.ts";
import { implement, PluginError, startPlugin } from "../../src/index.ts";
import { PingPong } from "../fixtures/gen/grpctest_pb.js";
import { recordingLogger, testHandshake, testPlugins, waitFor } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

function startGo(options: Partial<StartOptions<typeof testPlugins>> = {}, versions = "1") {
  return startPlugin({
    cmd: goBinary("goplugin-plugin"),
    args: ["-mode", "test", "-versions", versions],
    handshake: testHandshake,
    plugins: testPlugins,
    ...options,
  });
}

describe("TypeScript host → Go plugin", () => {
  for (const autoMtls of [false, true]) {
    describe(autoMtls ? "AutoMTLS" : "plain", () => {
      it("calls unary and streaming methods", async () => {
        await using plugin = await startGo({ autoMtls });
        assert.equal(plugin.tls, autoMtls);
        assert.equal(plugin.network, "unix");
        assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
        const fixture = plugin.dispense("fixture");
        const counted: number[] = [];
        for await (const r of fixture.count({ n: 5 })) counted.push(r.i);
        assert.deepEqual(counted, [0, 1, 2, 3, 4]);
        async function* values() {
          for (let i = 1n; i <= 10n; i++) yield { value: i };
        }
        assert.equal((await fixture.sum(values())).total, 55n);
        async function* ints() {
          for (let i = 21; i < 27; i++) yield { Input: i };
        }
        const echoed: number[] = [];
        for await (const r of plugin.dispense("test").stream(ints())) echoed.push(r.Output);
        assert.deepEqual(echoed, [21, 22, 23, 24, 25, 26]);
        await plugin.ping();
      });

      it("syncs the Go plugin's stdout/stderr and mirrors its hclog logs with levels", async () => {
        const stdout = new PassThrough();
        const out: Buffer[] = [];
        stdout.on("data", (c: Buffer) => out.push(c));
        const stderr = new PassThrough();
        const err: Buffer[] = [];
        stderr.on("data", (c: Buffer) => err.push(c));
        const { logger, entries } = recordingLogger();
        await using plugin = await startGo({
          autoMtls,
          syncStdout: stdout,
          syncStderr: stderr,
          logger,
        });
        await plugin
          .dispense("test")
          .printStdio({ stdout: Buffer.from("out-bytes\n"), stderr: Buffer.from("err-bytes\n") });
        await plugin
          .dispense("test")
          .printKV({ Key: "answer", Value: { case: "ValueInt", value: 42 } });
        await waitFor(
          () =>
            Buffer.concat(out).toString() === "out-bytes\n" &&
            Buffer.concat(err).toString() === "err-bytes\n",
          5000,
          "stdio",
        );
        await waitFor(
          () => entries.some((e) => e.message === "PrintKV called"),
          5000,
          "mirrored log",
        );
        const entry = entries.find((e) => e.message === "PrintKV called");
        assert.equal(entry?.level, "info");
        assert.equal(entry?.fields.answer, 42);
        assert.equal(entry?.fields.plugin, "goplugin-plugin");
        assert.ok(entries.some((e) => e.message === "plugin address" && e.level === "debug"));
      });

      it("stops the Go plugin gracefully well within the grace period", async () => {
        const plugin = await startGo({ autoMtls });
        const started = Date.now();
        await plugin.kill();
        const exit = await plugin.exited;
        assert.equal(exit.forced, false);
        assert.equal(exit.code, 0);
        assert.ok(Date.now() - started < 1000, `kill took ${Date.now() - started} ms`);
      });

      it("carries deadlines and cancellation into Go handlers", async () => {
        const { logger, entries } = recordingLogger();
        await using plugin = await startGo({ autoMtls, logger });
        const fixture = plugin.dispense("fixture");
        const probe = await fixture.sleep({ durationMs: 0 }, { timeoutMs: 2000 });
        assert.ok(
          probe.deadlineRemainingMs > 1000 && probe.deadlineRemainingMs <= 2000,
          String(probe.deadlineRemainingMs),
        );
        await assert.rejects(
          fixture.sleep({ durationMs: 30_000 }, { timeoutMs: 200 }),
          (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
        );
        // Abort once the Go handler has logged that it started, not on a timer: under load a
        // timer can fire before the request arrives, and then no handler sees the cancel. The
        // log lines arrive in order but late, so count them all: this is the third Sleep.
        const started = () => entries.filter((e) => e.message === "Sleep started").length;
        const controller = new AbortController();
        const call = assert.rejects(
          fixture.sleep({ durationMs: 30_000 }, { signal: controller.signal }),
          (e: unknown) => e instanceof PluginError && e.code === "CANCELLED",
        );
        await waitFor(() => started() === 3, 5000, "the third Go Sleep handler to start");
        controller.abort();
        await call;
        await waitFor(
          async () => (await fixture.cancelled({})).cancelled === 2,
          5000,
          "Go handlers to see both cancellations",
        );
      });

      it("calls back through the broker both ways (bidirectional)", async () => {
        await using plugin = await startGo({ autoMtls });
        let pinged = 0;
        const served = await plugin.broker.serve(
          implement(PingPong, {
            ping: () => {
              pinged++;
              return { msg: "pong" };
            },
          }),
        );
        const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
        assert.equal(pinged, 1);
        const back = await plugin.broker.client(id, PingPong);
        assert.equal((await back.ping({})).msg, "pong");
      });

      it("moves 16 MiB messages", async () => {
        await using plugin = await startGo({ autoMtls });
        const payload = new Uint8Array(16 * 1024 * 1024).fill(1);
        const reply = await plugin.dispense("fixture").echo({ payload });
        assert.equal(reply.payload.length, payload.length);
      });
    });
  }

  for (const autoMtls of [false, true]) {
    it(`multiplexed (yamux): calls, streams and callbacks both ways over one connection (${autoMtls ? "AutoMTLS" : "plain"})`, async () => {
      await using plugin = await startGo({ autoMtls, multiplex: true });
      assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
      async function* ints() {
        for (let i = 21; i < 27; i++) yield { Input: i };
      }
      const echoed: number[] = [];
      for await (const r of plugin.dispense("test").stream(ints())) echoed.push(r.Output);
      assert.deepEqual(echoed, [21, 22, 23, 24, 25, 26]);
      const served = await plugin.broker.serve(
        implement(PingPong, { ping: () => ({ msg: "pong" }) }),
      );
      const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
      assert.equal((await (await plugin.broker.client(id, PingPong)).ping({})).msg, "pong");
    });
  }

  it("multiplexed: a knock the Go plugin never acknowledges times out with go-plugin's error", async () => {
    await using plugin = await startGo({ multiplex: true });
    await assert.rejects(plugin.broker.dial(99, { timeoutMs: 1000 }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        /timeout waiting for multiplexing knock handshake on id 99/.test(e.message)
      );
    });
    // The connection is still good afterwards.
    await plugin.ping();
  });

  it("negotiates the highest common version with a versioned Go plugin", async () => {
    await using plugin = await startGo({ versions: [5, 6, 7] }, "5,6");
    assert.equal(plugin.negotiatedVersion, 6);
  });

  it("reports a version mismatch as PROTOCOL_VERSION_MISMATCH", async () => {
    await assert.rejects(startGo({ versions: [7] }, "5,6"), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "PROTOCOL_VERSION_MISMATCH" &&
        /Plugin version: 5, Client versions: \[7\]/.test(e.message)
      );
    });
  });

  it("reports a Go plugin's cookie refusal as COOKIE_MISMATCH", async () => {
    await assert.rejects(
      startGo({ handshake: { ...testHandshake, magicCookieValue: "nope" } }),
      (e: unknown) => {
        return (
          e instanceof PluginError && e.code === "COOKIE_MISMATCH" && e.plugin === "goplugin-plugin"
        );
      },
    );
  });

  it("a Go plugin that panics fails the call with PLUGIN_EXITED and its panic logged at ERROR", async () => {
    const { logger, entries } = recordingLogger();
    const plugin = await startGo({ logger });
    await assert.rejects(
      plugin.dispense("test").panic({ message: "boom from go" }),
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_EXITED",
    );
    await plugin.exited;
    const panicLine = entries.find((e) => e.message === "panic: boom from go");
    assert.equal(panicLine?.level, "error");
    const after = entries
      .slice(entries.indexOf(panicLine!) + 1)
      .filter((e) => e.message.startsWith("goroutine "));
    assert.ok(after.length >= 1 && after.every((e) => e.level === "error"));
  });

  it("runs go-plugin's own KV example plugin", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-kv-"));
    try {
      await using plugin = await startPlugin({
        cmd: goBinary("kv-example-plugin"),
        cwd: dir,
        handshake: kvHandshake,
        plugins: kvPlugins,
      });
      const kv = plugin.dispense("kv");
      await kv.put({ key: "hello", value: Buffer.from("world") });
      const got = await kv.get({ key: "hello" });
      assert.equal(Buffer.from(got.value).toString(), "world\n\nWritten from plugin-go-grpc");
      assert.equal(
        readFileSync(join(dir, "kv_hello"), "utf8"),
        "world\n\nWritten from plugin-go-grpc",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
