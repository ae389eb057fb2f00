// The host environment a plugin receives: everything by default (as go-plugin), nothing, or an
// allow-list of names and PREFIX_* patterns; checked in real plugin processes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/config.ts";
import type { HostEnvPolicy } from "../../src/host/start/environment.ts";
import { hostEnvFilter, pluginEnvironment } from "../../src/host/start/environment.ts";
import { PluginError } from "../../src/index.ts";
import { launchProcess } from "../../src/manager/index.ts";
import { fixturePlugin, recordingLogger, startFixture, testHandshake } from "../support/fixture.ts";

const protocolNames = [
  "PLUGIN_CLIENT_CERT",
  "PLUGIN_MAX_PORT",
  "PLUGIN_MIN_PORT",
  "PLUGIN_PROTOCOL_VERSIONS",
  "PLUGIN_UNIX_SOCKET_DIR",
  "PLUGWIRE_FAST_WIRE",
  testHandshake.magicCookieKey,
];
const secrets = {
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  AWS_REGION: "eu-west-1",
  AWSOME: "not an AWS_ variable",
  GITHUB_TOKEN: "ghp_example",
};

/** The names of the variables a real fixture plugin received. */
async function namesSeen(
  hostEnv: HostEnvPolicy | undefined,
  extra: object = {},
): Promise<string[]> {
  const { logger, entries } = recordingLogger();
  await using plugin = await startFixture("env", { args: ["PATH"], hostEnv, logger, ...extra });
  await plugin.ping();
  const entry = entries.find((e) => e.message === "environment");
  assert.ok(entry, "the plugin reported its environment");
  return entry.fields.names as string[];
}

describe("host environment allow-list", () => {
  const saved = { ...process.env };
  const withSecrets = async <T>(fn: () => Promise<T>): Promise<T> => {
    Object.assign(process.env, secrets);
    try {
      return await fn();
    } finally {
      for (const key of Object.keys(secrets)) if (!(key in saved)) delete process.env[key];
    }
  };

  it("passes every host variable by default, secrets included (go-plugin's behaviour)", async () => {
    const names = await withSecrets(() => namesSeen(undefined));
    for (const key of Object.keys(secrets)) assert.ok(names.includes(key), key);
    assert.ok(names.includes("PATH"));
  });

  it("passes only the listed names and PREFIX_* matches, plus env and the protocol's variables", async () => {
    const names = await withSecrets(() =>
      namesSeen(["PATH", "HOME", "AWS_*"], { env: { EXPLICIT: "1" } }),
    );
    const unexpected = names.filter(
      (n) =>
        !["PATH", "HOME", "EXPLICIT"].includes(n) &&
        !n.startsWith("AWS_") &&
        !protocolNames.includes(n) &&
        // Set by the plugin's own launcher script and by Node itself, not by the host.
        !["NODE_COMPILE_CACHE", "PWD", "OLDPWD", "SHLVL", "_"].includes(n),
    );
    assert.deepEqual(unexpected, [], "nothing else of the host's environment reached the plugin");
    assert.ok(names.includes("AWS_SECRET_ACCESS_KEY"), "AWS_* matches");
    assert.ok(!names.includes("AWSOME"), "AWS_* is a prefix with the underscore");
    assert.ok(!names.includes("GITHUB_TOKEN"));
    assert.ok(names.includes("EXPLICIT"), "the caller's env is always passed");
  });

  it('"none" and skipHostEnv pass nothing of the host', async () => {
    for (const extra of [{ hostEnv: "none" as const }, { skipHostEnv: true }]) {
      const names = await withSecrets(() => namesSeen(extra.hostEnv, extra));
      assert.ok(!names.includes("AWS_SECRET_ACCESS_KEY"), JSON.stringify(extra));
      assert.ok(!names.includes("HOME"), JSON.stringify(extra));
    }
  });

  it("rejects a malformed entry before starting anything", async () => {
    for (const bad of [["AWS*_KEY"], ["PATH "], [""], ["A-B"], [3], "some"] as unknown[]) {
      await assert.rejects(
        startFixture("env", { hostEnv: bad as HostEnvPolicy }),
        (error: unknown) => error instanceof TypeError && /hostEnv/.test(error.message),
        JSON.stringify(bad),
      );
    }
  });

  it("the manager passes a ProcessSpec's hostEnv on", async () => {
    process.env.PLUGWIRE_ALLOWED = "yes";
    process.env.PLUGWIRE_DENIED = "no";
    try {
      const { logger, entries } = recordingLogger();
      const connection = await launchProcess({
        cmd: fixturePlugin,
        args: ["env", "PLUGWIRE_DENIED"],
        handshake: testHandshake,
        logger,
        startTimeoutMs: 20_000,
        start: { hostEnv: ["PLUGWIRE_ALLOWED"] },
      });
      try {
        const entry = entries.find((e) => e.message === "environment");
        const names = entry?.fields.names as string[];
        assert.equal(entry?.fields.value, "<unset>");
        assert.ok(names.includes("PLUGWIRE_ALLOWED"));
      } finally {
        await connection.kill();
      }
    } finally {
      delete process.env.PLUGWIRE_ALLOWED;
      delete process.env.PLUGWIRE_DENIED;
    }
  });
});

describe("hostEnvFilter and pluginEnvironment", () => {
  it("matches names exactly and prefixes only at a trailing *", () => {
    const allowed = hostEnvFilter(["PATH", "LC_*"]);
    assert.ok(allowed("PATH"));
    assert.ok(!allowed("PATHX"));
    assert.ok(!allowed("path"));
    assert.ok(allowed("LC_ALL"));
    assert.ok(allowed("LC_"));
    assert.ok(!allowed("LANG"));
    assert.ok(hostEnvFilter(["*"])("ANYTHING"));
  });

  it("never passes inherited PLUGIN_* variables, even when listed", () => {
    const env = pluginEnvironment({
      handshake: { magicCookieKey: "K", magicCookieValue: "V" },
      versions: [1],
      hostEnv: ["PLUGIN_*", "HOME"],
      processEnv: { PLUGIN_CLIENT_CERT: "stale", PLUGIN_OTHER: "x", HOME: "/h", SECRET: "s" },
    });
    assert.equal(env.PLUGIN_CLIENT_CERT, undefined);
    assert.equal(env.PLUGIN_OTHER, "x");
    assert.equal(env.HOME, "/h");
    assert.equal(env.SECRET, undefined);
  });
});

describe("host_env in plugwire.toml", () => {
  const parse = (text: string) => parseConfig(text, "/etc/plugwire.toml");

  it("reads [manager] host_env and discovery, and host_env per service", () => {
    const config = parse(
      [
        "[manager]",
        'discovery = "manifest"',
        'host_env = ["PATH", "HOME"]',
        "[services.a]",
        'driver = "./a"',
        'host_env = ["PATH", "AWS_*"]',
        "[services.b]",
        'driver = "./b"',
        'host_env = "none"',
        "[services.c]",
        'driver = "./c"',
      ].join("\n"),
    );
    assert.equal(config.manager.discovery, "manifest");
    assert.deepEqual(config.manager.hostEnv, ["PATH", "HOME"]);
    assert.deepEqual(config.services.a?.hostEnv, ["PATH", "AWS_*"]);
    assert.equal(config.services.b?.hostEnv, "none");
    assert.equal(config.services.c?.hostEnv, undefined);
    assert.equal(parse("").manager.discovery, "all");
  });

  it("names the file, line and key of a bad value", () => {
    for (const [text, key, line] of [
      ['[services.a]\ndriver = "./a"\nhost_env = ["AWS*_KEY"]', "services.a.host_env", 3],
      ['[manager]\nhost_env = "some"', "manager.host_env", 2],
      ['[manager]\ndiscovery = "trusted"', "manager.discovery", 2],
    ] as const) {
      assert.throws(
        () => parse(text),
        (error: unknown) =>
          error instanceof PluginError &&
          error.code === "CONFIG_INVALID" &&
          error.message.includes(`/etc/plugwire.toml:${line}: key \`${key}\``),
        text,
      );
    }
  });
});
