// Fuzzes go-plugin's handshake line parser (src/protocol/handshake-line.ts) and the certificate
// field's decoder (src/transport/auto-mtls.ts): every input either parses into a checked handshake or
// fails with a PluginError whose code docs/handshake.md lists, quickly, with a bounded message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../src/errors/plugin-error.ts";
import { parseHandshake } from "../../src/protocol/handshake-line.ts";
import { checkAddress } from "../../src/transport/address.ts";
import { certPemFromHandshake } from "../../src/transport/auto-mtls.ts";
import type { Rng } from "./support.ts";
import { fuzz, fuzzIterations, loadCorpus, mutate } from "./support.ts";

const corpus = loadCorpus("handshake");
const dictionary = [
  "|",
  "||",
  "unix",
  "tcp",
  "udp",
  "grpc",
  "grpc+fast/1",
  "netrpc",
  "true",
  "false",
  "127.0.0.1:",
  "[::1]:",
  ":65535",
  ":65536",
  ":99999",
  "\0",
  "\r",
  "\n",
  " ",
  "-1",
  "+1",
  "99999999999999999999",
  "a".repeat(200),
  "/tmp/",
].map((s) => Buffer.from(s, "latin1"));

/** parseHandshake's documented codes (docs/handshake.md, "The handshake line"). */
const parseCodes = new Set([
  "HANDSHAKE_INVALID",
  "CORE_VERSION_MISMATCH",
  "PROTOCOL_VERSION_MISMATCH",
  "PROTOCOL_UNSUPPORTED",
  "MUX_UNSUPPORTED",
]);

const optionSets = [
  { versions: [1], multiplex: false },
  { versions: [1], multiplex: false, fastWire: true },
  { versions: [1, 2], multiplex: true },
  { versions: [5, 6], multiplex: false },
] as const;

/** Mutations plus whole-field edits: drop, add, duplicate, oversize, swap a field. */
function generate(rng: Rng): Buffer {
  const base = rng.pick(corpus).data;
  if (rng.chance(0.5))
    return mutate(
      rng,
      base,
      dictionary,
      corpus.map((c) => c.data),
      64 * 1024,
    );
  const fields = base.toString("latin1").split("|");
  const i = rng.int(fields.length + 1);
  switch (rng.int(5)) {
    case 0:
      fields.splice(i, 1);
      break;
    case 1:
      fields.splice(i, 0, rng.pick(dictionary).toString("latin1"));
      break;
    case 2:
      fields[i % fields.length] = "x".repeat(1 + rng.int(100_000));
      break;
    case 3:
      fields[i % fields.length] = String(rng.int(2 ** 31) - 2 ** 30);
      break;
    case 4:
      fields[i % fields.length] = rng.bytes(rng.int(80)).toString("base64");
      break;
  }
  return Buffer.from(fields.join("|"), "latin1");
}

/** The properties one line must satisfy, under each option set the host can have. */
function check(input: Buffer): void {
  const line = input.toString("utf8");
  for (const options of optionSets) {
    let parsed: ReturnType<typeof parseHandshake>;
    try {
      parsed = parseHandshake(line, options, () => "diagnostics");
    } catch (error) {
      assert.ok(error instanceof PluginError, `threw a non-PluginError: ${String(error)}`);
      assert.ok(parseCodes.has(error.code), `undocumented code ${error.code}`);
      // The message may quote a field twice (go-plugin's "Error parsing protocol version "x":
      // … parsing "x""), never more than that plus a fixed text.
      assert.ok(
        error.message.length <= 2 * line.length + 2048,
        `message of ${error.message.length} chars for a ${line.length}-char line`,
      );
      continue;
    }
    assert.ok(parsed.network === "unix" || parsed.network === "tcp");
    assert.equal(parsed.protocol, "grpc");
    assert.ok((options.versions as readonly number[]).includes(parsed.protocolVersion));
    assert.ok(parsed.address !== "", "empty address accepted");
    assert.ok(!parsed.address.includes("|"));
    if (parsed.fastWire === true) assert.equal("fastWire" in options && options.fastWire, true);
    if (options.multiplex) assert.equal(parsed.muxSupported, true);
    else assert.equal(parsed.muxSupported, undefined);
    if (parsed.serverCert !== "") {
      // The certificate field: a PEM, or TLS_FAILED, never anything else.
      try {
        const pem = certPemFromHandshake(parsed.serverCert);
        assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
      } catch (error) {
        assert.ok(error instanceof PluginError, `cert: threw a non-PluginError: ${String(error)}`);
        assert.equal(error.code, "TLS_FAILED");
      }
    }
  }
}

describe("fuzz: handshake lines", () => {
  it("replays the corpus and seeded mutations: a checked handshake or a documented code", async () => {
    const stats = await fuzz({
      target: "handshake",
      corpus,
      iterations: fuzzIterations(1500),
      generate,
      check,
    });
    assert.equal(stats.inputs, corpus.length + fuzzIterations(1500));
  });

  // What this guards against is parsing work that grows worse than linearly with the line. The
  // bound is on this process's CPU time, not wall time: on a loaded machine the wall time of the
  // same work stretched past 3 s (9.9 s at load 17 on 2 cores), while its CPU time stays near
  // 0.1 s for each of these lines (four option sets and the certificate decode). A quadratic step
  // over 10 MB would take hours of CPU, so the 3 s bound keeps a wide gap on both sides.
  // Comparing with a 1 MB line's cost instead was too noisy: at that size a parse costs a few ms,
  // and the 10 MB / 1 MB ratio measured between 2 and 15 from one run to the next.
  it("a 10 MB line, with and without separators, fails fast with HANDSHAKE_INVALID or a bounded message", async () => {
    const big = "A".repeat(10 * 1024 * 1024);
    await fuzz({
      target: "handshake",
      corpus: [
        { name: "10mb-no-separator", data: Buffer.from(big) },
        { name: "10mb-address", data: Buffer.from(`1|1|unix|/tmp/${big}|grpc|`) },
        { name: "10mb-cert", data: Buffer.from(`1|1|unix|/tmp/p|grpc|${big}`) },
        { name: "10mb-pipes", data: Buffer.from("|".repeat(10 * 1024 * 1024)) },
      ],
      iterations: 0,
      inputDeadlineMs: 3000,
      clock: "cpu",
      check,
    });
  });

  // Issue 14, defects 1 and 2: the host refuses what it cannot or should not dial (a port beyond
  // 65535, a unix path beyond sun_path's 107 bytes, a TCP address that is not loopback) before
  // dialling. The line parses; the dialler's address check refuses it.
  it("every announced address is checked before dialling: dialable and loopback only (issue 14 #1, #2)", () => {
    for (const name of ["bad-port-99999", "unix-path-too-long", "tcp-not-loopback"]) {
      const line = corpus.find((c) => c.name === name)!.data.toString();
      const handshake = parseHandshake(line, { versions: [1], multiplex: false });
      assert.throws(
        () => checkAddress(handshake.network, handshake.address),
        (error: unknown) => error instanceof PluginError && error.code === "HANDSHAKE_INVALID",
        name,
      );
    }
  });
});
