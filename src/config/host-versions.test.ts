import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { hostVersionsWith, plugwireVersion } from "../versions/plugwire-version.ts";
import { parseConfig } from "./config.ts";

describe("[manager] host_versions", () => {
  it("declares what the host is for plugins' engines; plugwire's own version is added", () => {
    const config = parseConfig(
      '[manager]\nhost_versions = { myapp = "2.3.0" }\n',
      "/h/plugwire.toml",
    );
    assert.deepEqual(config.manager.hostVersions, { myapp: "2.3.0" });
    assert.deepEqual(hostVersionsWith(config.manager.hostVersions), {
      myapp: "2.3.0",
      plugwire: plugwireVersion(),
    });
    assert.deepEqual(parseConfig("", "/h/plugwire.toml").manager.hostVersions, {});
  });

  it("refuses a version that is not semver, and plugwire itself, at its line", () => {
    const bad = (text: string) => {
      try {
        parseConfig(text, "/h/plugwire.toml");
      } catch (error) {
        assert.ok(error instanceof PluginError);
        assert.equal(error.code, "CONFIG_INVALID");
        return error.rawMessage;
      }
      assert.fail("expected CONFIG_INVALID");
    };
    assert.match(
      bad('[manager]\n[manager.host_versions]\nmyapp = "two"\n'),
      /plugwire\.toml:3: key `manager\.host_versions\.myapp`: expected a version such as "2\.3\.0", got "two"/,
    );
    assert.match(
      bad('[manager]\nhost_versions = { plugwire = "9.0.0" }\n'),
      /manager\.host_versions\.plugwire`: plugwire's version is its own/,
    );
  });
});
