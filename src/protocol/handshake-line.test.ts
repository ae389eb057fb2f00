import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { formatHandshake, parseGoBool, parseHandshake } from "./handshake-line.ts";

const parse = (line: string, versions = [1], multiplex = false) =>
  parseHandshake(line, { versions, multiplex }, () => "DIAGNOSTICS");

function rejects(
  line: string,
  code: string,
  text: RegExp,
  versions = [1],
  multiplex = false,
): void {
  assert.throws(
    () => parse(line, versions, multiplex),
    (e: unknown) => e instanceof PluginError && e.code === code && text.test(e.rawMessage),
  );
}

describe("handshake line", () => {
  it("formats go-plugin's line, with field 7 only when asked", () => {
    const base = {
      protocolVersion: 6,
      network: "unix" as const,
      address: "/tmp/plugin1",
      protocol: "grpc" as const,
      serverCert: "",
    };
    assert.equal(formatHandshake(base), "1|6|unix|/tmp/plugin1|grpc|");
    assert.equal(
      formatHandshake({ ...base, muxSupported: false }),
      "1|6|unix|/tmp/plugin1|grpc||false",
    );
  });

  it("parses Go plugins' lines, five-field lines and certificates", () => {
    assert.deepEqual(parse("1|1|unix|/tmp/plugin3322738481|grpc|"), {
      raw: "1|1|unix|/tmp/plugin3322738481|grpc|",
      protocolVersion: 1,
      network: "unix",
      address: "/tmp/plugin3322738481",
      protocol: "grpc",
      serverCert: "",
      muxSupported: undefined,
      fastWire: false,
    });
    assert.equal(parse("1|1|tcp|127.0.0.1:1234|grpc").network, "tcp");
    assert.equal(parse("1|1|tcp|:1234|grpc\r").address, ":1234");
    const cert = "M".repeat(60);
    assert.equal(parse(`1|1|unix|/x|grpc|${cert}`).serverCert, cert);
    // A short field 6 is the pre-AutoMTLS JSON blob, not a certificate.
    assert.equal(
      parse("1|1|unix|/x|grpc|eyJzdGRvdXRfYWRkciI6IiIsInN0ZGVycl9hZGRyIjoiIn0K").serverCert,
      "",
    );
  });

  it("accepts the fast wire only when the host offered it", () => {
    const line = formatHandshake({
      protocolVersion: 1,
      network: "unix",
      address: "/tmp/plugin1",
      protocol: "grpc",
      serverCert: "",
      fastWire: true,
    });
    assert.equal(line, "1|1|unix|/tmp/plugin1|grpc+fast/1|");
    const offered = parseHandshake(line, { versions: [1], multiplex: false, fastWire: true });
    assert.equal(offered.protocol, "grpc");
    assert.equal(offered.fastWire, true);
    // A host that did not offer it treats the field as an unknown protocol.
    rejects(line, "PROTOCOL_UNSUPPORTED", /unsupported plugin protocol "grpc\+fast\/1"/);
    // An offer a plugin ignores leaves plain gRPC.
    const ignored = parseHandshake("1|1|unix|/x|grpc|", {
      versions: [1],
      multiplex: false,
      fastWire: true,
    });
    assert.equal(ignored.fastWire, false);
  });

  it("rejects lines with go-plugin's error texts and stable codes", () => {
    rejects(
      "hello world",
      "HANDSHAKE_INVALID",
      /^Unrecognized remote plugin message: hello world\nDIAGNOSTICS$/,
    );
    rejects("", "HANDSHAKE_INVALID", /Failed to read any lines from plugin's stdout/);
    rejects("x|1|unix|/x|grpc|", "HANDSHAKE_INVALID", /^error parsing core protocol version/);
    rejects(
      "2|1|unix|/x|grpc|",
      "CORE_VERSION_MISMATCH",
      /Plugin version: 2, Core version: 1\n\nTo fix this, the plugin usually only needs to be recompiled/,
    );
    // Only the whole line is trimmed, not the fields (go-plugin does the same).
    rejects(
      "1 | 1 | unix | /x | grpc",
      "HANDSHAKE_INVALID",
      /^error parsing core protocol version/,
    );
    rejects("1|v|unix|/x|grpc|", "HANDSHAKE_INVALID", /^Error parsing protocol version "v"/);
    rejects(
      "1|7|unix|/x|grpc|",
      "PROTOCOL_VERSION_MISMATCH",
      /^incompatible API version with plugin. Plugin version: 7, Client versions: \[5 6\]/,
      [5, 6],
    );
    rejects("1|1|udp|/x|grpc|", "PROTOCOL_UNSUPPORTED", /^unknown address type: \/x$/);
    rejects("1|1|tcp|nonsense|grpc|", "HANDSHAKE_INVALID", /invalid tcp address/);
    rejects(
      "1|1|tcp|:1234",
      "PROTOCOL_UNSUPPORTED",
      /^unsupported plugin protocol "netrpc". Supported: \[grpc\]/,
    );
  });

  it("accepts netrpc (field 5, or no field 5) where the host's plugins for the version speak it", () => {
    // Version 1's plugins are net/rpc interfaces, version 2's gRPC services (VersionedPlugins).
    const protocols = (version: number) =>
      version === 1 ? ["netrpc" as const] : ["grpc" as const];
    const parseBy = (line: string) =>
      parseHandshake(line, { versions: [1, 2], multiplex: false, protocols });
    assert.equal(parseBy("1|1|tcp|:1234").protocol, "netrpc");
    assert.equal(parseBy("1|1|unix|/x|netrpc|").protocol, "netrpc");
    assert.equal(parseBy("1|2|unix|/x|grpc|").protocol, "grpc");
    assert.throws(
      () => parseBy("1|2|unix|/x|netrpc|"),
      (e: unknown) =>
        e instanceof PluginError &&
        e.code === "PROTOCOL_UNSUPPORTED" &&
        /^unsupported plugin protocol "netrpc". Supported: \[grpc\]/.test(e.rawMessage) &&
        /netrpc.define/.test(e.rawMessage),
    );
    assert.throws(
      () => parseBy("1|1|unix|/x|grpc|"),
      (e: unknown) =>
        e instanceof PluginError &&
        /^unsupported plugin protocol "grpc". Supported: \[netrpc\]/.test(e.rawMessage),
    );
    // The fast wire is gRPC: never accepted for a net/rpc version.
    assert.throws(
      () =>
        parseHandshake("1|1|unix|/x|grpc+fast/1|", {
          versions: [1],
          multiplex: false,
          fastWire: true,
          protocols,
        }),
      (e: unknown) => e instanceof PluginError && e.code === "PROTOCOL_UNSUPPORTED",
    );
  });

  it("applies go-plugin's multiplexing rules", () => {
    rejects(
      "1|1|unix|/x|grpc|",
      "MUX_UNSUPPORTED",
      /for Go plugins, you will need to update/,
      [1],
      true,
    );
    rejects(
      "1|1|unix|/x|grpc||false",
      "MUX_UNSUPPORTED",
      /^client requested gRPC broker multiplexing but plugin does not support the feature$/,
      [1],
      true,
    );
    rejects(
      "1|1|unix|/x|grpc||maybe",
      "HANDSHAKE_INVALID",
      /error parsing "maybe" as a boolean/,
      [1],
      true,
    );
    assert.equal(parse("1|1|unix|/x|grpc||true", [1], true).muxSupported, true);
    // A host that did not ask ignores field 7.
    assert.equal(parse("1|1|unix|/x|grpc||garbage").muxSupported, undefined);
  });

  it("reads booleans as Go's strconv.ParseBool", () => {
    for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseGoBool(t), true);
    for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(parseGoBool(f), false);
    assert.equal(parseGoBool("yes"), undefined);
  });
});
