// plugwire's TypeScript host on go-plugin's net/rpc protocol loads the real go-plugin v1.8.0
// net/rpc plugin (interop/go/cmd/netrpc-plugin) and plugwire's own (test/fixtures/netrpc-tester.ts),
// over unix and TCP, plain and AutoMTLS: structs, errors, stdio, logs, MuxBroker callbacks both
// ways, Control.Quit, a crash mid-call, reattach, and version negotiation across protocols.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { KV } from "../../examples/kv/gen/kv_pb.js";
import type { Client, StartOptions, VersionedPlugins } from "../../src/index.ts";
import {
  attachPlugin,
  formatReattachConfig,
  PluginError,
  parseReattachConfigs,
  startPlugin,
} from "../../src/index.ts";
import { Adder, netrpcPluginCmd, Tester, testerHandshake } from "../fixtures/netrpc-shared.ts";
import { processAlive, recordingLogger, waitFor } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

const plugins = { tester: Tester } as const;

const implementations = [
  { label: "Go plugin", cmd: () => goBinary("netrpc-plugin"), args: [] as string[] },
  { label: "TypeScript plugin", cmd: () => netrpcPluginCmd, args: ["tester"] },
];

function collect() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

const person = {
  Name: "Ada",
  Age: 36,
  Tags: ["math", "engines"],
  Address: { Street: "St James's Square", City: "London" },
  Scores: new Map([
    ["analysis", 9.5],
    ["poetry", 7],
  ]),
};

for (const impl of implementations) {
  const start = (options: Partial<StartOptions<typeof plugins>> = {}, args: string[] = []) =>
    startPlugin({
      cmd: impl.cmd(),
      args: [...impl.args, ...args],
      handshake: testerHandshake,
      plugins,
      startTimeoutMs: 20_000,
      ...options,
    });

  describe(`TypeScript host → ${impl.label} (go-plugin's net/rpc protocol)`, () => {
    for (const network of ["unix", "tcp"] as const) {
      for (const autoMtls of [false, true]) {
        describe(`${network}, ${autoMtls ? "AutoMTLS" : "plain"}`, () => {
          // Go plugins always listen on unix; PLUGWIRE_NETWORK only moves plugwire's.
          const expected = impl.label === "Go plugin" ? "unix" : network;

          it("TestClient_testInterface: typed calls with structs, errors and Control.Ping", async () => {
            await using plugin = await start({ autoMtls, network });
            assert.equal(plugin.protocol, "netrpc");
            assert.equal(plugin.wire, "netrpc");
            assert.equal(plugin.tls, autoMtls);
            assert.equal(plugin.network, expected);
            const tester = plugin.dispense("tester");
            assert.equal(await tester.Double(21), 42);
            assert.deepEqual(await tester.Describe(person), {
              Text: "Ada (36)",
              Letters: 3,
              Tags: ["math", "engines"],
              City: "London",
              Best: "analysis",
            });
            await assert.rejects(
              tester.Fail("boom: no"),
              (e: unknown) =>
                e instanceof PluginError &&
                e.code === "NETRPC_ERROR" &&
                e.rawMessage === "boom: no" &&
                e.plugin === plugin.name,
            );
            assert.equal(await tester.Pid({}), plugin.pid);
            await plugin.ping();
          });

          it("TestClient_App: MuxBroker callbacks both ways", async () => {
            await using plugin = await start({ autoMtls, network });
            const broker = plugin.muxBroker!;
            const tester = plugin.dispense("tester");
            // Host serves, plugin dials (go-plugin's AcceptAndServe on the host).
            const served = await broker.serve(Adder, { Add: ({ A, B }) => A + B });
            assert.equal(await tester.AddVia({ ID: served.id, A: 2, B: 3 }), 5);
            // Plugin serves, host dials.
            const id = await tester.ServeAdder({});
            const adder = await broker.client(id, Adder);
            assert.equal(await adder.Add({ A: 20, B: 22 }), 42);
          });

          it("TestClient_syncStreams and TestClient_logger: stdio and hclog logs", async () => {
            const stdout = collect();
            const stderr = collect();
            const { logger, entries } = recordingLogger();
            await using plugin = await start({
              autoMtls,
              network,
              logger,
              syncStdout: stdout.stream,
              syncStderr: stderr.stream,
            });
            const tester = plugin.dispense("tester");
            await tester.Print({ Stdout: "out-bytes\n", Stderr: "err-bytes\n" });
            await tester.Log({ Message: "tester logged", Key: "answer", Value: "42" });
            await waitFor(
              () => stdout.text() === "out-bytes\n" && stderr.text() === "err-bytes\n",
              5000,
              "the plugin's stdout and stderr",
              () => JSON.stringify([stdout.text(), stderr.text()]),
            );
            const entry = await waitFor(
              () => entries.find((e) => e.message === "tester logged"),
              5000,
              "the mirrored log line",
            );
            assert.equal(entry.level, "info");
            assert.equal(entry.fields.answer, "42");
            assert.equal(entry.fields.plugin, plugin.name);
          });

          it("kill() is Control.Quit: the plugin exits by itself, well within the grace period", async () => {
            const plugin = await start({ autoMtls, network, killGraceMs: 10_000 });
            await plugin.dispense("tester").Double(1);
            await plugin.kill();
            const exit = await plugin.exited;
            assert.equal(exit.forced, false, "not SIGKILLed after the grace period");
            assert.equal(exit.code, 0);
            assert.equal(processAlive(plugin.pid), false);
          });
        });
      }
    }

    it("a crash mid-call rejects the call with PLUGIN_EXITED and leaves nothing behind", async () => {
      const plugin = await start();
      const tester = plugin.dispense("tester");
      await tester.Double(1);
      await assert.rejects(
        tester.Crash(3),
        (e: unknown) =>
          e instanceof PluginError && e.code === "PLUGIN_EXITED" && e.plugin === plugin.name,
      );
      const exit = await plugin.exited;
      assert.equal(exit.code, 3);
      assert.equal(plugin.state.t, "exited");
      // Later calls fail the same way, at once.
      await assert.rejects(
        tester.Double(2),
        (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_EXITED",
      );
      assert.equal(processAlive(plugin.pid), false);
      // The socket the plugin left (os.Exit skips its cleanup) goes with its private directory.
      await waitFor(() => !existsSync(dirname(plugin.address)), 5000, "the socket directory to go");
      await plugin.kill();
    });

    it("a slow call in flight when kill() runs fails with CLIENT_CLOSED; the plugin exits", async () => {
      const { logger, entries } = recordingLogger();
      const plugin = await start({ logger });
      const slow = plugin.dispense("tester").Sleep(30_000);
      const failed = assert.rejects(
        slow,
        (e: unknown) => e instanceof PluginError && e.code === "CLIENT_CLOSED",
      );
      await waitFor(
        () => entries.some((e) => e.message === "sleep started"),
        10_000,
        "the slow call to run",
      );
      await plugin.kill();
      await failed;
      assert.equal((await plugin.exited).forced, false);
    });

    it("a call's timeoutMs and signal end it here (net/rpc cannot cancel it in the plugin)", async () => {
      await using plugin = await start();
      const tester = plugin.dispense("tester");
      await assert.rejects(
        tester.Sleep(5000, { timeoutMs: 100 }),
        (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
      );
      const controller = new AbortController();
      const call = tester.Sleep(5000, { signal: controller.signal });
      controller.abort();
      await assert.rejects(
        call,
        (e: unknown) => e instanceof PluginError && e.code === "CANCELLED",
      );
      // The connection is still good.
      assert.equal(await tester.Double(4), 8);
    });

    it("TestClient_ping: ping works while the plugin runs, fails after kill", async () => {
      const plugin = await start();
      await plugin.ping();
      await plugin.kill();
      await assert.rejects(plugin.ping(), (e: unknown) => e instanceof PluginError);
    });

    it("dispense of a name the host does not know is SERVICE_UNKNOWN; one the plugin does not serve fails the call", async () => {
      await using plugin = await start({}, []);
      assert.throws(
        () => (plugin as unknown as { dispense(n: string): unknown }).dispense("nope"),
        (e: unknown) => e instanceof PluginError && e.code === "SERVICE_UNKNOWN",
      );
      // The plugin's own "unknown plugin type" (Go's text) when the host's name is not served.
      await using other = await startPlugin({
        cmd: impl.cmd(),
        args: impl.args,
        handshake: testerHandshake,
        plugins: { missing: Tester },
      });
      await assert.rejects(
        other.dispense("missing").Double(1),
        (e: unknown) =>
          e instanceof PluginError &&
          e.code === "NETRPC_ERROR" &&
          e.rawMessage === "unknown plugin type: missing",
      );
    });

    it("TestClient_reattach: attachPlugin with Protocol netrpc reaches the running plugin", async () => {
      // As go-plugin: AutoMTLS keys die with the first client, so reattaching needs plain text.
      await using plugin = await start({ autoMtls: false });
      const config = plugin.reattachConfig();
      assert.equal(config.protocol, "netrpc");
      const attached = await attachPlugin({ reattach: config, plugins, managed: false });
      assert.equal(attached.protocol, "netrpc");
      assert.equal(await attached.dispense("tester").Double(5), 10);
      await attached.ping();
      // TestClient_reattachNoProtocol: a config without Protocol is net/rpc, as in go-plugin.
      const json = formatReattachConfig("t", config).replace('"Protocol":"netrpc",', "");
      assert.doesNotMatch(json, /"Protocol"/);
      const blank = await attachPlugin({
        reattach: parseReattachConfigs(json).t!,
        plugins,
        managed: false,
      });
      assert.equal(await blank.dispense("tester").Double(6), 12);
    });

    describe("version negotiation across protocols (versionedPlugins)", () => {
      const args = ["--versions", "1", "--grpc-versions", "2"];
      const goArgs = ["-versions", "1", "-grpc-versions", "2"];
      const pluginArgs = impl.label === "Go plugin" ? goArgs : args;

      const startVersioned = <V extends VersionedPlugins>(versionedPlugins: V) =>
        startPlugin({
          cmd: impl.cmd(),
          args: [...impl.args, ...pluginArgs],
          handshake: testerHandshake,
          versionedPlugins,
          startTimeoutMs: 20_000,
        });

      it("both versions offered: the plugin picks 2, gRPC", async () => {
        await using plugin = await startVersioned({ 1: { tester: Tester }, 2: { kv: KV } });
        assert.equal(plugin.negotiatedVersion, 2);
        assert.equal(plugin.protocol, "grpc");
        // Typed as either version's plugin: the negotiated version says which it is.
        const kv = plugin.dispense("kv") as Client<typeof KV>;
        await kv.put({ key: "k", value: Buffer.from("v") });
        assert.equal(Buffer.from((await kv.get({ key: "k" })).value).toString(), "v");
      });

      it("only version 1 offered: net/rpc", async () => {
        await using plugin = await startVersioned({ 1: { tester: Tester } });
        assert.equal(plugin.negotiatedVersion, 1);
        assert.equal(plugin.protocol, "netrpc");
        assert.equal(await plugin.dispense("tester").Double(3), 6);
      });

      it("TestClient_wrongVersion: a version whose host set is gRPC refuses the net/rpc answer", async () => {
        await assert.rejects(
          startVersioned({ 1: { kv: KV } }),
          (e: unknown) =>
            e instanceof PluginError &&
            e.code === "PROTOCOL_UNSUPPORTED" &&
            /unsupported plugin protocol "netrpc". Supported: \[grpc\]/.test(e.rawMessage),
        );
      });

      it("allowedProtocols narrows what the host accepts", async () => {
        await assert.rejects(
          start({ allowedProtocols: ["grpc"] }),
          (e: unknown) => e instanceof PluginError && e.code === "PROTOCOL_UNSUPPORTED",
        );
      });
    });
  });
}

describe("debug mode on net/rpc (go-plugin's test mode)", () => {
  it("TestServer_RPC: serve({ debug }) prints Protocol netrpc; the host attaches, and kill() only detaches", async () => {
    const child = spawn(netrpcPluginCmd, ["tester", "--debug"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    try {
      const line = await waitFor(
        () => /PLUGWIRE_REATTACH='(.*)'/.exec(output)?.[1],
        20_000,
        "the reattach line",
      );
      const config = parseReattachConfigs(line).tester!;
      assert.equal(config.protocol, "netrpc");
      assert.equal(config.test, true);
      const first = await attachPlugin({ reattach: config, plugins });
      assert.equal(await first.dispense("tester").Double(8), 16);
      await first.kill(); // a debug-mode plugin is not ours to stop
      assert.ok(processAlive(child.pid!));
      const second = await attachPlugin({ reattach: config, plugins });
      await second.ping();
      await second.kill();
    } finally {
      child.kill("SIGINT"); // debug mode: SIGINT stops it
      await once(child, "exit");
    }
  });
});
