// The host's plugin sets by version (go-plugin's Plugins + VersionedPlugins + AllowedProtocols).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KV } from "../../../examples/kv/gen/kv_pb.js";
import { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import { define } from "../../rpc/netrpc/define.ts";
import { resolvePluginSets } from "./plugin-sets.ts";

const Greeter = define({ Greet: { args: go.interface, reply: go.string } });
const name = "p";

function invalid(run: () => unknown, text: RegExp): void {
  assert.throws(
    run,
    (e: unknown) =>
      e instanceof PluginError && e.code === "CONFIG_INVALID" && text.test(e.rawMessage),
  );
}

describe("plugin sets by version", () => {
  it("without versionedPlugins, `plugins` serves every offered version in its own protocol", () => {
    const sets = resolvePluginSets({ name, plugins: { greeter: Greeter }, versions: [1, 2] });
    assert.deepEqual(sets.versions, [1, 2]);
    assert.deepEqual(sets.setFor(2), { greeter: Greeter });
    assert.deepEqual(sets.protocolsFor(1), ["netrpc"]);
    const grpc = resolvePluginSets({ name, plugins: { kv: KV }, protocolVersion: 5 });
    assert.deepEqual(grpc.versions, [5]);
    assert.deepEqual(grpc.protocolsFor(5), ["grpc"]);
  });

  it("versionedPlugins offers its versions plus the handshake's for `plugins`, as go-plugin", () => {
    const sets = resolvePluginSets({
      name,
      plugins: { kv: KV },
      protocolVersion: 1,
      versionedPlugins: { 2: { greeter: Greeter }, 3: { kv: KV } },
    });
    assert.deepEqual([...sets.versions].sort(), [1, 2, 3]);
    assert.deepEqual(sets.protocolsFor(2), ["netrpc"]);
    assert.deepEqual(sets.protocolsFor(3), ["grpc"]);
    assert.deepEqual(sets.setFor(1), { kv: KV });
    // A version of its own wins over `plugins`.
    const own = resolvePluginSets({
      name,
      plugins: { kv: KV },
      protocolVersion: 2,
      versionedPlugins: { 2: { greeter: Greeter } },
    });
    assert.deepEqual(own.versions, [2]);
    assert.deepEqual(own.setFor(2), { greeter: Greeter });
  });

  it("a set with nothing in it speaks whatever allowedProtocols allows (both by default)", () => {
    assert.deepEqual(resolvePluginSets({ name }).protocolsFor(1), ["grpc", "netrpc"]);
    const sets = resolvePluginSets({
      name,
      allowedProtocols: ["grpc"],
      plugins: { greeter: Greeter },
    });
    assert.deepEqual(sets.protocolsFor(1), []);
  });

  it("refuses a set that mixes protocols, versions beside versionedPlugins, and unknown protocols", () => {
    invalid(
      () => resolvePluginSets({ name, plugins: { kv: KV, greeter: Greeter } }),
      /mix gRPC services and net\/rpc interfaces/,
    );
    invalid(
      () => resolvePluginSets({ name, versions: [1], versionedPlugins: { 1: { kv: KV } } }),
      /give only `versionedPlugins`/,
    );
    invalid(
      () => resolvePluginSets({ name, allowedProtocols: ["http" as "grpc"] }),
      /go-plugin's protocols are "grpc" and "netrpc"/,
    );
    invalid(() => resolvePluginSets({ name, versions: [] }), /at least one protocol version/);
  });
});
