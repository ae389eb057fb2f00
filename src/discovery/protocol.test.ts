// Discovery reports the protocol of what it found: go-plugin's Go plugins of both protocols in
// one folder, then a folder of net/rpc plugins discovered with their plugin set and dispensed.
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Greeter } from "../../test/fixtures/netrpc-shared.ts";
import { tempDir } from "../../test/manager/support.ts";
import { goBinary } from "../../test/support/interop.ts";
import { PluginRegistry } from "./registry.ts";

const basic = { magicCookieKey: "BASIC_PLUGIN", magicCookieValue: "hello", protocolVersion: 1 };

describe("discovery and go-plugin's protocols", () => {
  it("tells a net/rpc plugin from a gRPC one, and keeps it in the manifest once stopped", async () => {
    using tmp = tempDir("pw-disc-proto-");
    symlinkSync(goBinary("basic-example-greeter"), join(tmp.dir, "greeter"));
    symlinkSync(goBinary("kv-example-plugin"), join(tmp.dir, "kv"));
    await using registry = new PluginRegistry();
    const { found, skipped } = await registry.discover({
      paths: [tmp.dir],
      handshake: basic,
      keepRunning: false,
      startTimeoutMs: 20_000,
    });
    assert.deepEqual(skipped, []);
    const protocols = Object.fromEntries(found.map((f) => [f.plugin.id, f.protocol]));
    assert.deepEqual(protocols, { greeter: "netrpc", kv: "grpc" });
    assert.equal(registry.get("greeter")?.state.t, "stopped");
    assert.equal(registry.get("greeter")?.manifest.protocol, "netrpc");
    assert.equal(registry.get("kv")?.manifest.protocol, "grpc");
  });

  it("discovers net/rpc plugins with the host's plugin set and dispenses them supervised", async () => {
    using tmp = tempDir("pw-disc-proto-");
    symlinkSync(goBinary("basic-example-greeter"), join(tmp.dir, "go-greeter"));
    await using registry = new PluginRegistry();
    const { found } = await registry.discover({
      paths: [join(tmp.dir, "go-greeter")],
      handshake: basic,
      process: { plugins: { greeter: Greeter } },
      startTimeoutMs: 20_000,
    });
    assert.equal(found.length, 1);
    const greeter = found[0]!.plugin.dispense("greeter", Greeter);
    assert.equal(await greeter.Greet(null), "Hello!");
    await found[0]!.plugin.stop();
    assert.equal(await greeter.Greet(null), "Hello!"); // started again on use
  });
});
