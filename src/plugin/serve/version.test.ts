// serve()'s version choice (go-plugin's protocolVersion): the set of the chosen version decides
// the protocol, gRPC for a list of services, net/rpc for plugins by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import { define } from "../../rpc/netrpc/define.ts";
import { netrpcPlugin } from "./netrpc-plugins.ts";
import { chooseVersion } from "./version.ts";

const Greeter = define({ Greet: { args: go.interface, reply: go.string } });
const greeter = netrpcPlugin(Greeter, { Greet: () => "Hello!" });
const handshake = { magicCookieKey: "K", magicCookieValue: "V" };
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const env = (versions: string | undefined) => ({ PLUGIN_PROTOCOL_VERSIONS: versions });

describe("serve()'s version and protocol", () => {
  it("`plugins` alone is net/rpc at the handshake's version", () => {
    const choice = chooseVersion({ handshake, plugins: { greeter } }, env("1"), quiet);
    assert.equal(choice.protocol, "netrpc");
    assert.equal(choice.protocolVersion, 1);
  });

  it("versions mixing protocols: the highest common version, and its protocol", () => {
    const versions = { 2: { greeter }, 3: [] };
    assert.equal(chooseVersion({ handshake, versions }, env("2,3"), quiet).protocol, "grpc");
    const two = chooseVersion({ handshake, versions }, env("2"), quiet);
    assert.deepEqual([two.protocolVersion, two.protocol], [2, "netrpc"]);
    // A host with no list gets the lowest (go-plugin's legacy path).
    assert.equal(chooseVersion({ handshake, versions }, env(undefined), quiet).protocolVersion, 2);
  });

  it("`services` and `plugins` together are CONFIG_INVALID", () => {
    assert.throws(
      () => chooseVersion({ handshake, services: [], plugins: { greeter } }, env("1"), quiet),
      (e: unknown) => e instanceof PluginError && e.code === "CONFIG_INVALID",
    );
  });
});
