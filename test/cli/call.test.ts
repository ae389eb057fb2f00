// `plugwire call` against real plugin processes: the TypeScript fixture plugin and go-plugin's
// own KV example plugin (Go), described by gRPC server reflection, --protoset and --proto.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findProtoCompiler } from "../../src/cli/proto-files.ts";
import { tempDir, writeScript } from "../manager/support.ts";
import { fixturePlugin, repoRoot } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const buf = join(repoRoot, "node_modules/.bin/buf");
const kvProto = join(repoRoot, "examples/kv/proto/kv.proto");

function plugwire(
  args: string[],
  options: { cwd?: string | undefined; stdin?: string | undefined } = {},
) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    cwd: options.cwd ?? repoRoot,
    input: options.stdin ?? "",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

describe("plugwire call, TypeScript plugin, by reflection", () => {
  const tmp = tempDir("pw-call-");
  after(() => tmp[Symbol.dispose]());
  // The fixture plugin serving go-plugin's grpctest services and plugwire's Fixture service; it
  // publishes no descriptors, so everything below comes from reflection.
  const plugin = writeScript(join(tmp.dir, "fixture"), `exec '${fixturePlugin}' test-grpc "$@"`);
  const run = (args: string[], stdin?: string) =>
    plugwire([...args, "--cookie", "TEST_MAGIC_COOKIE=test"], { stdin });

  it("lists services and methods, as text and --json", () => {
    const text = run(["call", plugin, "list"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^grpc\.health\.v1\.Health$/m);
    assert.match(text.stdout, /^grpc\.reflection\.v1alpha\.ServerReflection$/m);
    assert.match(
      text.stdout,
      /^ {2}Count\(plugwire\.fixture\.CountRequest\) returns \(stream plugwire\.fixture\.CountResponse\)$/m,
    );
    assert.match(
      text.stdout,
      /^ {2}EchoStream\(stream plugwire\.fixture\.EchoMessage\) returns \(stream plugwire\.fixture\.EchoMessage\)$/m,
    );

    const json = run(["call", plugin, "list", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout);
    assert.equal(listed.source, "reflection");
    const names = listed.services.map((s: { name: string }) => s.name);
    for (const name of ["grpctest.Test", "grpctest.PingPong", "plugin.GRPCStdio"])
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    const fixture = listed.services.find(
      (s: { name: string }) => s.name === "plugwire.fixture.Fixture",
    );
    assert.deepEqual(
      fixture.methods.find((m: { name: string }) => m.name === "Sum"),
      {
        name: "Sum",
        kind: "client_streaming",
        input: "plugwire.fixture.SumRequest",
        output: "plugwire.fixture.SumResponse",
      },
    );

    const one = JSON.parse(run(["call", plugin, "list", "grpctest.PingPong", "--json"]).stdout);
    assert.deepEqual(
      one.services.map((s: { name: string }) => s.name),
      ["grpctest.PingPong"],
    );
  });

  it("makes unary calls with JSON from the argument or stdin, both name forms", () => {
    const doubled = run(["call", plugin, "grpctest.Test/Double", '{"Input":21}']);
    assert.equal(doubled.code, 0, doubled.stderr);
    assert.deepEqual(JSON.parse(doubled.stdout), { Output: 42 });
    const echoed = run(["call", plugin, "plugwire.fixture.Fixture.Echo"], '{"payload":"aGk="}');
    assert.equal(echoed.code, 0, echoed.stderr);
    assert.deepEqual(JSON.parse(echoed.stdout), { payload: "aGk=" });
  });

  it("prints a server stream as one JSON line per message (canonical JSON)", () => {
    const counted = run(["call", plugin, "plugwire.fixture.Fixture/Count", '{"n":3}']);
    assert.equal(counted.code, 0, counted.stderr);
    assert.deepEqual(lines(counted.stdout), [{}, { i: 1 }, { i: 2 }]);
  });

  it("reads client and bidi streams as JSON lines on stdin", () => {
    const sum = run(
      ["call", plugin, "plugwire.fixture.Fixture/Sum"],
      '{"value":"1"}\n{"value":2}\n\n{"value":"39"}\n',
    );
    assert.equal(sum.code, 0, sum.stderr);
    assert.deepEqual(JSON.parse(sum.stdout), { total: "42", count: 3 });
    const echo = run(
      ["call", plugin, "plugwire.fixture.Fixture/EchoStream"],
      '{"payload":"YQ=="}\n{"payload":"Yg=="}\n',
    );
    assert.equal(echo.code, 0, echo.stderr);
    assert.deepEqual(lines(echo.stdout), [{ payload: "YQ==" }, { payload: "Yg==" }]);
    const bad = run(["call", plugin, "plugwire.fixture.Fixture/Sum"], '{"value":1}\nnot json\n');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /stdin line 2 is not JSON/);
  });

  it("names what the plugin has when the service or method is unknown", () => {
    const method = run(["call", plugin, "plugwire.fixture.Fixture/Nope", "{}"]);
    assert.equal(method.code, 1);
    assert.match(
      method.stderr,
      /\[SERVICE_UNKNOWN\] plugin fixture: service plugwire\.fixture\.Fixture has no method "Nope" \(methods: Sleep, Count, Sum/,
    );
    const service = run(["call", plugin, "no.Such/Thing", "{}"]);
    assert.equal(service.code, 1);
    assert.match(
      service.stderr,
      /\[SERVICE_UNKNOWN\] plugin fixture: no service "no\.Such" \(it serves, by reflection: .*grpctest\.PingPong/,
    );
    const input = run(["call", plugin, "grpctest.Test/Double", '{"nope":1}']);
    assert.equal(input.code, 2);
    assert.match(input.stderr, /does not fit grpctest\.TestRequest/);
  });
});

describe("plugwire call, go-plugin's KV example plugin (Go)", () => {
  const tmp = tempDir("pw-call-go-");
  after(() => tmp[Symbol.dispose]());
  const kv = goBinary("kv-example-plugin");
  // The plugin writes kv_<key> files in its working directory: the CLI runs in a temp dir.
  const work = join(tmp.dir, "work");
  mkdirSync(work);
  const run = (args: string[], stdin?: string) =>
    plugwire([...args, "--cookie", "BASIC_PLUGIN=hello", "--protocol-version", "1"], {
      cwd: work,
      stdin,
    });
  const written = Buffer.from("world\n\nWritten from plugin-go-grpc").toString("base64");

  it("puts and gets by gRPC server reflection", () => {
    const listed = run(["call", kv, "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      /^proto\.KV\n {2}Get\(proto\.GetRequest\) returns \(proto\.GetResponse\)$/m,
    );
    assert.match(listed.stdout, /^grpc\.reflection\.v1\.ServerReflection$/m);

    const put = run(["call", kv, "proto.KV/Put", '{"key":"hello","value":"d29ybGQ="}']);
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(JSON.parse(put.stdout), {});
    assert.equal(
      readFileSync(join(work, "kv_hello"), "utf8"),
      "world\n\nWritten from plugin-go-grpc",
    );
    const get = run(["call", kv, "proto.KV/Get", '{"key":"hello"}']);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(JSON.parse(get.stdout), { value: written });

    const missing = run(["call", kv, "proto.KV/Delete", "{}"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /SERVICE_UNKNOWN.*proto\.KV has no method "Delete" \(methods: Get, Put\)/,
    );
  });

  it("describes methods with --protoset and --proto instead of reflection", () => {
    const protoset = join(tmp.dir, "kv.binpb");
    execFileSync(buf, ["build", join(repoRoot, "examples/kv/proto"), "-o", protoset]);
    const listed = JSON.parse(run(["call", kv, "list", "--json", "--protoset", protoset]).stdout);
    assert.equal(listed.source, "proto");
    assert.deepEqual(
      listed.services.map((s: { name: string }) => s.name),
      ["proto.KV"],
    );
    const put = run([
      "call",
      kv,
      "proto.KV/Put",
      '{"key":"set","value":"eA=="}',
      "--protoset",
      protoset,
    ]);
    assert.equal(put.code, 0, put.stderr);
    const get = run(["call", kv, "proto.KV.Get", '{"key":"set"}', "--protoset", protoset]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(Buffer.from(JSON.parse(get.stdout).value, "base64").toString().slice(0, 1), "x");

    const viaProto = run(["call", kv, "proto.KV/Get", '{"key":"hello"}', "--proto", kvProto]);
    assert.equal(viaProto.code, 0, viaProto.stderr);
    assert.deepEqual(JSON.parse(viaProto.stdout), { value: written });
    const withImportPath = run([
      "call",
      kv,
      "list",
      "--json",
      "--proto",
      "kv.proto",
      "-I",
      join(repoRoot, "examples/kv/proto"),
    ]);
    assert.equal(withImportPath.code, 0, withImportPath.stderr);
    assert.equal(JSON.parse(withImportPath.stdout).services[0].methods.length, 2);

    // Described by the files only: a service they lack is unknown, even though the plugin has it.
    const health = run(["call", kv, "grpc.health.v1.Health/Check", "{}", "--protoset", protoset]);
    assert.equal(health.code, 1);
    assert.match(
      health.stderr,
      /SERVICE_UNKNOWN.*the --proto\/--protoset files describe: proto\.KV/,
    );

    const bad = join(tmp.dir, "bad.proto");
    writeFileSync(bad, 'syntax = "proto3";\npackage bad;\nmessage A { Nope b = 1; }\n');
    const broken = run(["call", kv, "list", "--proto", bad]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /\[PROTO_INVALID\] buf could not compile .*bad\.proto:3/);
    const notSet = run(["call", kv, "list", "--protoset", bad]);
    assert.equal(notSet.code, 1);
    assert.match(
      notSet.stderr,
      /\[PROTO_INVALID\] --protoset .*bad\.proto is not a binary FileDescriptorSet/,
    );
  });
});

describe("finding a protobuf compiler for --proto", () => {
  it("finds buf in the nearest node_modules/.bin, and nothing where there is none", () => {
    using tmp = tempDir("pw-protoc-");
    assert.equal(findProtoCompiler("", [tmp.dir]), undefined);
    assert.deepEqual(findProtoCompiler("", [join(repoRoot, "src/cli")]), {
      kind: "buf",
      file: buf,
    });
    const bin = join(tmp.dir, "bin");
    mkdirSync(bin);
    writeScript(join(bin, "protoc"), "exit 0");
    assert.deepEqual(findProtoCompiler(bin, [tmp.dir]), {
      kind: "protoc",
      file: join(bin, "protoc"),
    });
  });
});
