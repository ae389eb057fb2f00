// `plugwire call`, `list` and `inspect` with plugins on go-plugin's net/rpc protocol: go-plugin's
// own Go plugins (examples/basic, plugin-go-netrpc), interop/go's netrpc-plugin and the
// TypeScript tester, by path and as a configured service.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { netrpcPluginCmd } from "../fixtures/netrpc-shared.ts";
import { tempDir, writeScript } from "../manager/support.ts";
import { repoRoot } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

const cli = join(repoRoot, "bin/plugwire.js");

function plugwire(args: string[], cwd = repoRoot) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    timeout: 90_000,
    cwd,
    input: "",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json(run: ReturnType<typeof plugwire>): unknown {
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const basic = ["--cookie", "BASIC_PLUGIN=hello"];
const tester = ["--cookie", "NETRPC_TESTER=tester"];
const person = {
  Name: "Ada",
  Age: 36,
  Tags: ["math", "engines"],
  Address: { Street: "St James's Square", City: "London" },
  Scores: { analysis: 9.5, poetry: 7 },
};
const card = {
  Text: "Ada (36)",
  Letters: 3,
  Tags: ["math", "engines"],
  City: "London",
  Best: "analysis",
};

describe("plugwire call NAME/Plugin.Method", () => {
  const tmp = tempDir("pw-netrpc-call-");
  after(() => tmp[Symbol.dispose]());

  it("calls go-plugin's Go greeter with no input (a nil interface{})", () => {
    const greeter = goBinary("basic-example-greeter");
    assert.equal(json(plugwire(["call", greeter, "greeter/Plugin.Greet", ...basic])), "Hello!");
  });

  it("puts and gets through plugin-go-netrpc: interface values typed with @type, []byte as base64", () => {
    const kv = goBinary("kv-example-plugin-netrpc");
    const value = Buffer.from("world").toString("base64");
    const put = { key: "hello", value: { "@type": "[]byte", value } };
    const args = ["--args-type", "map[string]interface{}", ...basic];
    assert.equal(
      json(plugwire(["call", kv, "kv/Plugin.Put", JSON.stringify(put), ...args], tmp.dir)),
      null,
    );
    const got = json(plugwire(["call", kv, "kv/Plugin.Get", '"hello"', ...basic], tmp.dir));
    assert.equal(
      Buffer.from(got as string, "base64").toString(),
      "world\n\nWritten from plugin-go-netrpc",
    );
    const missing = plugwire(["call", kv, "kv/Plugin.Get", '"nope"', ...basic], tmp.dir);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /\[NETRPC_ERROR\] plugin kv-example-plugin-netrpc: kv\/Plugin\.Get: open kv_nope: no such file or directory/,
    );
  });

  for (const [label, plugin] of [
    ["interop/go's netrpc-plugin", () => goBinary("netrpc-plugin")],
    [
      "the TypeScript tester",
      () => writeScript(join(tmp.dir, "ts-tester"), `exec '${netrpcPluginCmd}' tester "$@"`),
    ],
  ] as const) {
    it(`calls ${label} with types read off the JSON, and with --args-type`, () => {
      assert.equal(json(plugwire(["call", plugin(), "tester/Plugin.Double", "21", ...tester])), 42);
      const inferred = plugwire([
        "call",
        plugin(),
        "tester/Plugin.Describe",
        JSON.stringify(person),
        ...tester,
      ]);
      assert.deepEqual(json(inferred), card);
      const type =
        "struct{Name string; Age int; Tags []string; Address *struct{Street, City string}; Scores map[string]float64}";
      const typed = plugwire([
        "call",
        plugin(),
        "tester/Plugin.Describe",
        JSON.stringify(person),
        "--args-type",
        type,
        ...tester,
      ]);
      assert.deepEqual(json(typed), card);
      const failed = plugwire(["call", plugin(), "tester/Plugin.Fail", '"boom"', ...tester]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /\[NETRPC_ERROR\] .*tester\/Plugin\.Fail: boom/);
    });
  }

  it("says what is wrong with the command before starting anything", () => {
    const greeter = goBinary("basic-example-greeter");
    const noName = plugwire(["call", greeter, "Plugin.Greet", ...basic]);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /name the net\/rpc plugin to dispense: NAME\/Plugin\.Greet/);
    const badType = plugwire([
      "call",
      greeter,
      "greeter/Plugin.Greet",
      "1",
      "--args-type",
      "map[string",
      ...basic,
    ]);
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /--args-type "map\[string": expected "\]" at offset 10/);
    const misfit = plugwire([
      "call",
      greeter,
      "greeter/Plugin.Greet",
      '"x"',
      "--args-type",
      "struct{A int}",
      ...basic,
    ]);
    assert.equal(misfit.code, 2);
    assert.match(misfit.stderr, /args: expected an object \(struct \{ A int \}\), got "x"/);
  });

  it("`list` on a net/rpc plugin says net/rpc describes no methods", () => {
    const run = plugwire(["call", goBinary("basic-example-greeter"), "list", ...basic]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /\[SERVICE_UNKNOWN\] .*go-plugin's net\/rpc protocol, which describes no methods: call NAME\/Plugin\.Method/,
    );
  });

  it("a configured net/rpc service takes its plugin name from netrpc_plugin", () => {
    const config = join(repoRoot, "examples/netrpc/reva/plugwire.toml");
    const args = JSON.stringify({ UID: { Idp: "example.org", OpaqueId: "marie" } });
    const reply = json(plugwire(["call", "users-go", "Plugin.GetUser", args, "-c", config])) as {
      User: { DisplayName: string; Groups: string[] };
    };
    assert.equal(reply.User.DisplayName, "Marie Curie");
    assert.deepEqual(reply.User.Groups, ["physics", "chemistry"]);
  });
});

describe("plugwire list and inspect report the protocol", () => {
  it("list shows netrpc for net/rpc plugins, in the table and --json", () => {
    const dir = join(repoRoot, "examples/netrpc/iglu/plugins");
    const cookie = ["--cookie", "IGLU_PLUGIN=MzlK0OGpIRs"];
    const table = plugwire(["list", dir, ...cookie]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+STATE\s+VERSION\s+SOURCE\s+PROVIDES\s+PROTOCOL$/m);
    assert.match(table.stdout, /^go-amazing\s+running\s+-\s+\S+\s+-\s+netrpc$/m);
    assert.match(table.stdout, /^ts-frosty\s+running\s+-\s+\S+\s+-\s+netrpc$/m);
    const listed = json(plugwire(["list", dir, "--json", ...cookie])) as Array<{
      id: string;
      protocol: string;
    }>;
    assert.deepEqual(
      listed.map((p) => [p.id, p.protocol]),
      [
        ["go-amazing", "netrpc"],
        ["ts-frosty", "netrpc"],
      ],
    );
  });

  it("inspect gives the protocol and pings with Control.Ping", () => {
    const info = json(
      plugwire(["inspect", goBinary("basic-example-greeter"), "--json", ...basic]),
    ) as {
      protocol: string;
      health: string;
    };
    assert.equal(info.protocol, "netrpc");
    assert.equal(info.health, "SERVING");
    const grpc = json(plugwire(["inspect", goBinary("kv-example-plugin"), "--json", ...basic])) as {
      protocol: string;
    };
    assert.equal(grpc.protocol, "grpc");
  });
});
