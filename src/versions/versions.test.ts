import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { parseReference, resolveVersion, versionCandidates } from "./constraint.ts";
import { checkCompatibility, parseEngines } from "./engines.ts";

const isCode = (code: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof PluginError, String(error));
  assert.equal(error.code, code, error.message);
  if (pattern !== undefined) assert.match(error.message, pattern);
  return true;
};

describe("version constraints", () => {
  it("splits name@range, keeping scopes, git users and URLs with @ whole", () => {
    assert.deepEqual(parseReference("greeter@^1.2"), { name: "greeter", range: "^1.2" });
    assert.deepEqual(parseReference("npm:@acme/greeter@~2.0"), {
      name: "npm:@acme/greeter",
      range: "~2.0",
    });
    assert.deepEqual(parseReference("@acme/greeter"), { name: "@acme/greeter", range: undefined });
    assert.deepEqual(parseReference("go:github.com/org/plugin@v1.4.2"), {
      name: "go:github.com/org/plugin",
      range: "v1.4.2",
    });
    assert.deepEqual(parseReference("git@github.com:org/repo.git"), {
      name: "git@github.com:org/repo.git",
      range: undefined,
    });
    assert.deepEqual(parseReference("https://ci@git.example.com/repo.git"), {
      name: "https://ci@git.example.com/repo.git",
      range: undefined,
    });
    assert.throws(
      () => parseReference("greeter@banana", "plugwire.toml:4"),
      isCode("CONFIG_INVALID", /plugwire\.toml:4: "banana" is not a semver range/),
    );
  });

  it("resolves the highest match among tags and registry versions, skipping non-semver labels and prereleases", () => {
    const tags = versionCandidates([
      "v1.2.0",
      "v1.4.2",
      "v1.10.0",
      "v2.0.0",
      "v2.1.0-rc.1",
      "latest",
      "main",
      "plugin/v1.5.0",
    ]);
    assert.equal(resolveVersion("^1.2", tags).label, "v1.10.0");
    assert.equal(resolveVersion("~1.4", tags).label, "v1.4.2");
    assert.equal(resolveVersion(undefined, tags).label, "v2.0.0");
    assert.equal(resolveVersion(">=1.5 <1.6", tags).label, "plugin/v1.5.0");
    assert.equal(
      resolveVersion("^2.1.0-rc", tags, { includePrerelease: true }).label,
      "v2.1.0-rc.1",
    );
  });

  it("nothing matching is VERSION_UNSATISFIED naming the range, where it is written and the versions seen", () => {
    const tags = versionCandidates(["v1.2.0", "v2.0.0", "v1.4.2"]);
    assert.throws(
      () => resolveVersion("^3", tags, { plugin: "reports", where: "plugwire.toml:7" }),
      isCode(
        "VERSION_UNSATISFIED",
        /plugin reports: no version satisfies "\^3" \(plugwire\.toml:7\): the source offers 2\.0\.0, 1\.4\.2, 1\.2\.0\. Widen the range/,
      ),
    );
    assert.throws(
      () => resolveVersion("^1", []),
      isCode("VERSION_UNSATISFIED", /offers no semver versions/),
    );
  });
});

describe("engines compatibility", () => {
  it("is compatible when every declared engine the host knows is satisfied", () => {
    const manifest = { id: "reports", engines: { myapp: "^2.1", plugwire: ">=0.1" } };
    assert.equal(checkCompatibility(manifest, { myapp: "2.3.0", plugwire: "0.1.0" }), undefined);
    assert.equal(checkCompatibility({ id: "plain" }, { myapp: "1.0.0" }), undefined);
    assert.equal(
      checkCompatibility({ id: "x", engines: { otherapp: "^1" } }, { myapp: "2.0.0" }),
      undefined,
    );
  });

  it("a mismatch is an incompatible skip with one clear line", () => {
    const skip = checkCompatibility(
      { id: "reports", engines: { myapp: "^2" } },
      { myapp: "3.0.0" },
    );
    assert.deepEqual(skip, {
      reason: "incompatible",
      engine: "myapp",
      range: "^2",
      host: "3.0.0",
      message:
        "plugin reports supports myapp ^2, this host is myapp 3.0.0: install a version of the plugin built for myapp 3.0.0",
    });
    const strict = checkCompatibility(
      { id: "x", engines: { otherapp: "^1" } },
      {},
      { strict: true },
    );
    assert.match(
      strict?.message ?? "",
      /needs otherapp \^1, and this host does not say which otherapp it is/,
    );
  });

  it("parses engines from a package manifest and refuses a bad range naming the file", () => {
    assert.deepEqual(parseEngines({ myapp: "^2" }, "plugwire.json"), { myapp: "^2" });
    assert.equal(parseEngines(undefined, "plugwire.json"), undefined);
    assert.throws(
      () => parseEngines({ myapp: "two" }, "/p/plugwire.json"),
      isCode(
        "CONFIG_INVALID",
        /\/p\/plugwire\.json: key `engines`: myapp = "two" is not a semver range/,
      ),
    );
    assert.throws(() => parseEngines(["^2"], "f"), isCode("CONFIG_INVALID"));
  });
});
