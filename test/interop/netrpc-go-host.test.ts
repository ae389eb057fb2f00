// A real go-plugin v1.8.0 host on the net/rpc protocol (interop/go/cmd/netrpc-host) loads
// plugwire's TypeScript net/rpc plugin (test/fixtures/netrpc-tester.ts), over unix and TCP,
// plain and AutoMTLS: structs, errors, stdio, logs, MuxBroker callbacks both ways, Control.Quit,
// a crash mid-call, reattach, and version negotiation across protocols.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NetRpcHostReport } from "../fixtures/netrpc-shared.ts";
import { netrpcPluginCmd, runNetRpcHost } from "../fixtures/netrpc-shared.ts";
import { waitForExit } from "../support/fixture.ts";

function assertOk(report: NetRpcHostReport): void {
  assert.equal(report.ok, true, `${report.scenario}: ${report.error}\n${report.pluginStderr}`);
  assert.equal(report.exited, true, "the plugin exited after Kill");
}

/** The pid the plugin reported, gone once the host is done. */
async function assertGone(pid: unknown): Promise<void> {
  assert.equal(typeof pid, "number");
  await waitForExit(pid as number);
}

const transports = [
  { label: "unix", env: {} },
  { label: "tcp", env: { PLUGWIRE_NETWORK: "tcp" } },
];
const tlsModes = [
  { label: "plain", flags: [] },
  { label: "AutoMTLS", flags: ["-automtls"] },
];

describe("Go host → TypeScript plugin (go-plugin's net/rpc protocol)", () => {
  for (const transport of transports) {
    for (const tls of tlsModes) {
      describe(`${transport.label}, ${tls.label}`, () => {
        const run = (scenario: string) =>
          runNetRpcHost({
            cmd: netrpcPluginCmd,
            args: ["tester"],
            flags: ["-scenario", scenario, ...tls.flags],
            env: transport.env,
          });

        it("TestClient_testInterface: structs in and out, an error return, Control.Ping", async () => {
          const report = await run("basic");
          assertOk(report);
          assert.equal(report.protocol, "netrpc");
          assert.equal(report.negotiatedVersion, 1);
          const result = report.result as Record<string, unknown>;
          assert.equal(result.double, 42);
          assert.deepEqual(result.card, {
            Text: "Ada (36)",
            Letters: 3,
            Tags: ["math", "engines"],
            City: "London",
            Best: "analysis",
          });
          // The Go host sees the TypeScript handler's error text exactly.
          assert.equal(result.failText, "boom: the plugin said no");
          assert.equal(result.ping, true);
          const address = report.hostLog.find((e) => e["@message"] === "plugin address");
          assert.equal(address?.network, transport.label);
          // Kill is Control.Quit; the plugin answers it and exits by itself.
          assert.equal(report.forced, false, "the plugin exited gracefully");
          await assertGone(result.pid);
        });

        it("TestClient_App with MuxBroker callbacks both ways", async () => {
          const report = await run("callback");
          assertOk(report);
          const result = report.result as Record<string, unknown>;
          assert.equal(result.viaHost, 5, "plugin dialled the host's AcceptAndServe");
          assert.equal(result.viaPlugin, 42, "host dialled the plugin's AcceptAndServe");
        });

        it("TestClient_syncStreams: stdout and stderr reach SyncStdout/SyncStderr", async () => {
          const report = await run("stdio");
          assertOk(report);
          assert.deepEqual(report.result, { arrived: true });
          assert.equal(report.syncStdout, "out-bytes\n");
          assert.equal(report.syncStderr, "err-bytes\n");
          // Application output never mixes into the log pipe.
          assert.doesNotMatch(report.pluginStderr, /out-bytes|err-bytes/);
        });

        it("TestClient_logger (netrpc): hclog lines are mirrored with their fields", async () => {
          const report = await run("logs");
          assertOk(report);
          const entry = report.hostLog.find((e) => e["@message"] === "tester logged");
          assert.equal(entry?.["@level"], "info");
          assert.equal(entry?.answer, "42");
        });

        it("TestClient_testCleanup: Kill is Control.Quit, the plugin exits promptly", async () => {
          const report = await run("quit");
          assertOk(report);
          assert.equal(report.forced, false);
          assert.deepEqual(report.result, { pingAfterKill: false });
          assert.ok(
            report.hostLog.some((e) => e["@message"] === "plugin process exited"),
            "go-plugin saw the process exit",
          );
        });

        it("Kill during a slow call still ends the plugin by Control.Quit", async () => {
          const report = await run("slow-kill");
          assertOk(report);
          assert.deepEqual(report.result, { callFailed: true });
          assert.equal(report.forced, false);
        });

        it("a crash mid-call fails the call and the host sees the exit", async () => {
          const report = await run("crash");
          assertOk(report);
          const result = report.result as Record<string, unknown>;
          assert.equal(result.callFailed, true);
          assert.equal(result.exited, true);
        });

        it("TestClient_ping: Ping works while the plugin runs, fails after Kill", async () => {
          const report = await run("ping");
          assertOk(report);
          const result = report.result as Record<string, unknown>;
          assert.equal(result.before, true);
          assert.equal(result.after, false);
        });
      });
    }
  }

  it("TestClient_reattach: a second client attaches by ReattachConfig (Protocol netrpc)", async () => {
    const report = await runNetRpcHost({
      cmd: netrpcPluginCmd,
      args: ["tester"],
      flags: ["-scenario", "reattach"],
    });
    assertOk(report);
    assert.deepEqual(report.result, { protocol: "netrpc", double: 10 });
  });

  describe("version negotiation across protocols (VersionedPlugins)", () => {
    // The plugin serves version 1 over net/rpc and version 2 over gRPC.
    const args = ["tester", "--versions", "1", "--grpc-versions", "2"];

    it("a host offering both gets the highest, gRPC", async () => {
      const report = await runNetRpcHost({
        cmd: netrpcPluginCmd,
        args,
        flags: ["-scenario", "negotiate", "-versions", "1", "-grpc-versions", "2"],
      });
      assertOk(report);
      assert.equal(report.negotiatedVersion, 2);
      assert.equal(report.protocol, "grpc");
      assert.deepEqual(report.result, { kv: "over grpc" });
    });

    it("a host offering version 1 only gets net/rpc", async () => {
      const report = await runNetRpcHost({
        cmd: netrpcPluginCmd,
        args,
        flags: ["-scenario", "negotiate", "-versions", "1", "-grpc-versions", ""],
      });
      assertOk(report);
      assert.equal(report.negotiatedVersion, 1);
      assert.equal(report.protocol, "netrpc");
      assert.deepEqual(report.result, { double: 8 });
    });

    it("TestClient_wrongVersion: version 1 is net/rpc whatever the host meant it to be", async () => {
      // The host's version 1 is a gRPC set; the plugin's is net/rpc, and the version decides.
      const report = await runNetRpcHost({
        cmd: netrpcPluginCmd,
        args,
        flags: ["-scenario", "negotiate", "-versions", "", "-grpc-versions", "1"],
      });
      assert.equal(report.ok, false);
      assert.equal(report.protocol, "netrpc");
      assert.match(report.error, /unknown plugin type: tester/);
    });
  });
});
