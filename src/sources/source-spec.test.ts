import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { constraintOf, parseSource } from "./source-spec.ts";

describe("parseSource", () => {
  it("reads npm packages, scoped or not, with or without a range", () => {
    assert.deepEqual(parseSource("npm:@acme/greeter@^1.2"), {
      kind: "npm",
      raw: "npm:@acme/greeter@^1.2",
      name: "@acme/greeter",
      constraint: "^1.2",
    });
    assert.deepEqual(parseSource("npm:greeter"), {
      kind: "npm",
      raw: "npm:greeter",
      name: "greeter",
      constraint: undefined,
    });
  });

  it("reads Go modules with a version or a range", () => {
    const spec = parseSource("go:github.com/org/plugin@v1.4.2");
    assert.deepEqual(spec, {
      kind: "go",
      raw: "go:github.com/org/plugin@v1.4.2",
      module: "github.com/org/plugin",
      constraint: "v1.4.2",
    });
    assert.equal(parseSource("go:example.com/x/v2@^2.1").kind, "go");
  });

  it("tells git URLs (with #ref or @range) from archives", () => {
    assert.deepEqual(parseSource("https://host/x.git#v1"), {
      kind: "git",
      raw: "https://host/x.git#v1",
      url: "https://host/x.git",
      ref: "v1",
    });
    assert.deepEqual(parseSource("git@github.com:org/x.git@^2.1"), {
      kind: "git",
      raw: "git@github.com:org/x.git@^2.1",
      url: "git@github.com:org/x.git",
      constraint: "^2.1",
    });
    assert.deepEqual(parseSource("https://h/r/plugin_{version}_{os}_{arch}.zip@~1.4"), {
      kind: "archive",
      raw: "https://h/r/plugin_{version}_{os}_{arch}.zip@~1.4",
      url: "https://h/r/plugin_{version}_{os}_{arch}.zip",
      constraint: "~1.4",
    });
  });

  it("reads local paths as folders or files", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-spec-"));
    try {
      writeFileSync(join(dir, "plugin"), "");
      assert.equal(parseSource(dir).kind, "folder");
      assert.deepEqual(parseSource(join(dir, "plugin")), {
        kind: "path",
        raw: join(dir, "plugin"),
        path: join(dir, "plugin"),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses nonsense with CONFIG_INVALID naming it", () => {
    for (const raw of [
      "",
      "npm:",
      "npm:@scope/",
      "npm:x@not a range",
      "go:",
      "go:../escape",
      "https://h/x.git#",
      "http://h/plugin_1.0.0_linux_amd64.zip",
      "ftp:thing",
    ])
      assert.throws(
        () => parseSource(raw),
        (error: PluginError) =>
          error instanceof PluginError &&
          error.code === "CONFIG_INVALID" &&
          error.message.includes(JSON.stringify(raw)),
        raw,
      );
  });

  it("takes one constraint, written in the source or beside it", () => {
    const spec = parseSource("npm:greeter@^1");
    assert.equal(constraintOf(spec, undefined), "^1");
    assert.equal(constraintOf(spec, "^1"), "^1");
    assert.equal(constraintOf(parseSource("npm:greeter"), "~2.1"), "~2.1");
    assert.throws(() => constraintOf(spec, "^2"), /write one/);
    assert.throws(() => constraintOf(spec, "nope nope"), /not a semver range/);
  });
});
