// Every address a plugin announces is checked before anything is dialled.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { checkAddress, maxUnixPathBytes } from "./address.ts";

function refused(network: string, address: string, pattern: RegExp, allowRemoteTcp = false) {
  assert.throws(
    () => checkAddress(network, address, { allowRemoteTcp }),
    (error: unknown) =>
      error instanceof PluginError &&
      error.code === "HANDSHAKE_INVALID" &&
      pattern.test(error.message) &&
      (error.details.field === "address" || error.details.field === "network"),
    `${network} ${JSON.stringify(address)}`,
  );
}

describe("checkAddress", () => {
  it("accepts what go-plugin and plugwire plugins announce", () => {
    assert.deepEqual(checkAddress("unix", "/tmp/plugwire-x/plugin123"), {
      path: "/tmp/plugwire-x/plugin123",
    });
    assert.deepEqual(checkAddress("tcp", "127.0.0.1:1234"), { host: "127.0.0.1", port: 1234 });
    assert.deepEqual(checkAddress("tcp", "127.9.9.9:65535"), { host: "127.9.9.9", port: 65535 });
    assert.deepEqual(checkAddress("tcp", "[::1]:1"), { host: "::1", port: 1 });
    assert.deepEqual(checkAddress("tcp", "[::ffff:127.0.0.1]:80"), {
      host: "::ffff:127.0.0.1",
      port: 80,
    });
    assert.deepEqual(checkAddress("tcp", ":4000"), { host: "127.0.0.1", port: 4000 });
    assert.deepEqual(checkAddress("tcp", "localhost:4000"), { host: "localhost", port: 4000 });
    assert.deepEqual(checkAddress("unix", `/${"p".repeat(maxUnixPathBytes - 1)}`), {
      path: `/${"p".repeat(maxUnixPathBytes - 1)}`,
    });
  });

  it("refuses unix paths the OS would refuse or truncate", () => {
    refused("unix", "", /empty unix socket path/);
    refused("unix", `/${"p".repeat(maxUnixPathBytes)}`, /longer than the \d+ bytes/);
    // Bytes, not characters: 60 two-byte characters are 120 bytes.
    refused("unix", `/${"é".repeat(60)}`, /path of 121 bytes/);
    refused("unix", "/tmp/a\0b", /NUL byte/);
  });

  it("refuses TCP addresses that are malformed, out of range or off this machine", () => {
    refused("tcp", "127.0.0.1", /without a port/);
    refused("tcp", "127.0.0.1:0", /port 0 /);
    refused("tcp", "127.0.0.1:99999", /port 99999 /);
    refused("tcp", "127.0.0.1:+80", /port \+80 /);
    refused("tcp", "127.0.0.1:", /port {2}in/);
    refused("tcp", "::1:80", /malformed tcp host/);
    refused("tcp", "[127.0.0.1]:80", /malformed tcp host/);
    refused("tcp", "10.0.0.1:80", /not a loopback address/);
    refused("tcp", "[2001:db8::1]:80", /not a loopback address/);
    refused("tcp", "example.com:80", /not an IP address/);
    refused("quic", "127.0.0.1:80", /unknown network "quic"/);
  });

  it("allowRemoteTcp lets other hosts through, never a bad port", () => {
    const policy = { allowRemoteTcp: true };
    assert.deepEqual(checkAddress("tcp", "10.0.0.1:80", policy), { host: "10.0.0.1", port: 80 });
    assert.deepEqual(checkAddress("tcp", "example.com:80", policy), {
      host: "example.com",
      port: 80,
    });
    refused("tcp", "10.0.0.1:70000", /outside 1–65535/, true);
  });

  it("keeps messages short for a huge announced address", () => {
    try {
      checkAddress("unix", `/${"x".repeat(1_000_000)}`);
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof PluginError);
      assert.ok(error.message.length < 600, `${error.message.length} characters`);
    }
  });
});
