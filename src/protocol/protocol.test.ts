import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pluginEnvironment } from "../host/start/environment.ts";
import { formatHclogLine, hclogTimestamp, parseLogLine } from "./hclog.ts";
import { negotiateVersion } from "./negotiate.ts";

describe("version negotiation (plugin side)", () => {
  it("picks the highest common version, whatever the host's order", () => {
    assert.equal(negotiateVersion([5, 6], "5,6"), 6);
    assert.equal(negotiateVersion([5, 6], "6,5"), 6);
    assert.equal(negotiateVersion([2, 3], "1,2"), 2);
  });

  it("falls back to the lowest own version without a common one, and reports bad entries", () => {
    const invalid: string[] = [];
    assert.equal(
      negotiateVersion([2, 3], "1,x", (e) => invalid.push(e)),
      2,
    );
    assert.deepEqual(invalid, ["x"]);
    assert.equal(negotiateVersion([4, 9], undefined), 4);
  });
});

describe("hclog lines", () => {
  it("writes six fractional digits and string @ fields", () => {
    assert.match(
      hclogTimestamp(new Date("2026-01-02T03:04:05.678Z")),
      /^2026-01-02T03:04:05\.678000Z$/,
    );
    const line = JSON.parse(
      formatHclogLine(
        "info",
        "hello",
        { n: 1, err: new Error("boom"), big: 5n, "@level": "x" },
        "mod",
      ),
    );
    assert.equal(line["@level"], "info");
    assert.equal(line["@message"], "hello");
    assert.equal(line["@module"], "mod");
    assert.equal(line.err, "boom");
    assert.equal(line.big, "5");
    assert.equal(line.n, 1);
  });

  it("parses hclog JSON, [LEVEL] prefixes and panic mode as go-plugin does", () => {
    const state = { panicMode: false };
    const json = parseLogLine(
      '{"@level":"WARN ","@message":"m","@timestamp":"2026-01-02T03:04:05.000000+01:00","k":"v"}',
      state,
    );
    assert.deepEqual([json.level, json.message, json.fields.k], ["warn", "m", "v"]);
    assert.equal(parseLogLine("[ERROR] x", state).level, "error");
    assert.equal(parseLogLine("[ERR] x", state).level, "debug");
    assert.equal(parseLogLine("2024/01/01 00:00:00 [ERROR] dated", state).level, "debug");
    assert.equal(parseLogLine("plain", state).level, "debug");
    assert.equal(parseLogLine("panic: oh no", state).level, "error");
    assert.equal(parseLogLine("goroutine 1 [running]:", state).level, "error");
    assert.equal(
      parseLogLine(
        '{"@level":"info","@message":"still json","@timestamp":"2026-01-02T03:04:05.000000Z"}',
        state,
      ).level,
      "info",
    );
  });

  it("never fails on malformed entries and says why", () => {
    const state = { panicMode: false };
    assert.match(
      String(parseLogLine('{"@level":"info","@message":5}', state).problem),
      /must be strings/,
    );
    assert.match(
      String(parseLogLine('{"@level":"warning","@message":"m"}', state).problem),
      /unknown @level/,
    );
    assert.match(
      String(
        parseLogLine(
          '{"@level":"info","@message":"m","@timestamp":"2026-01-02T03:04:05.123Z"}',
          state,
        ).problem,
      ),
      /six fractional digits/,
    );
    assert.equal(parseLogLine('{"a":1}', state).problem, undefined);
  });
});

describe("plugin environment", () => {
  it("sets go-plugin's variables and drops stale PLUGIN_* ones from the host", () => {
    const env = pluginEnvironment({
      handshake: { magicCookieKey: "K", magicCookieValue: "V" },
      versions: [5, 6],
      clientCertPem: "PEM",
      env: { EXTRA: "1", HOME: "/override" },
      processEnv: {
        HOME: "/root",
        PLUGIN_MULTIPLEX_GRPC: "true",
        PLUGIN_CLIENT_CERT: "stale",
        PATH: "/bin",
      },
    });
    assert.equal(env.K, "V");
    assert.equal(env.PLUGIN_PROTOCOL_VERSIONS, "5,6");
    assert.equal(env.PLUGIN_MIN_PORT, "10000");
    assert.equal(env.PLUGIN_MAX_PORT, "25000");
    assert.equal(env.PLUGIN_CLIENT_CERT, "PEM");
    assert.equal(env.PLUGIN_MULTIPLEX_GRPC, undefined);
    assert.equal(env.HOME, "/override", "the caller's env wins over the host's");
    assert.equal(env.PATH, "/bin");
  });

  it("passes nothing of the host's environment with skipHostEnv", () => {
    const env = pluginEnvironment({
      handshake: { magicCookieKey: "K", magicCookieValue: "V" },
      versions: [1],
      skipHostEnv: true,
      processEnv: { PATH: "/bin" },
    });
    assert.deepEqual(Object.keys(env).sort(), [
      "K",
      "PLUGIN_MAX_PORT",
      "PLUGIN_MIN_PORT",
      "PLUGIN_PROTOCOL_VERSIONS",
    ]);
  });
});
