// Every way a plugin can fail to start gives a PluginError with a stable code that names the
// plugin, and leaves no process or socket behind.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  processAlive,
  socketDir,
  startFixture,
  testHandshake,
} from "../../../test/support/fixture.ts";
import type { PluginErrorCode } from "../../errors/plugin-error.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { startPlugin } from "./start.ts";

/** Asserts the start fails with `code`, a message matching `pattern`, and no process left. */
async function failsWith(
  start: Promise<unknown>,
  code: PluginErrorCode,
  pattern: RegExp,
): Promise<PluginError> {
  let caught: unknown;
  try {
    await start;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PluginError, `expected a PluginError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  assert.ok(caught.message.includes(`[${code}] plugin `), "the message names the plugin");
  const pid = caught.details.pid;
  if (typeof pid === "number")
    assert.equal(processAlive(pid), false, "the plugin process was killed");
  return caught;
}

describe("start failures", () => {
  it("TestClientStart_badVersion: an unknown app version is PROTOCOL_VERSION_MISMATCH", async () => {
    await failsWith(
      startFixture("bad-version"),
      "PROTOCOL_VERSION_MISMATCH",
      /incompatible API version with plugin. Plugin version: 11, Client versions: \[1\]/,
    );
  });

  it("TestClientStart_badNegotiatedVersion: no common version is PROTOCOL_VERSION_MISMATCH", async () => {
    await failsWith(
      startFixture("test-versioned", { versions: [1] }),
      "PROTOCOL_VERSION_MISMATCH",
      /Plugin version: 2/,
    );
  });

  it("a first line that is not a handshake is HANDSHAKE_INVALID with go-plugin's diagnostics", async () => {
    const error = await failsWith(
      startFixture("invalid-rpc-address"),
      "HANDSHAKE_INVALID",
      /Unrecognized remote plugin message: lolinvalid/,
    );
    assert.match(error.message, /This usually means/);
    assert.match(error.message, /Path: .*fixture-plugin/);
  });

  it("output on stdout before the handshake is HANDSHAKE_INVALID", async () => {
    await failsWith(
      startFixture("stdout-banner"),
      "HANDSHAKE_INVALID",
      /Unrecognized remote plugin message: hello world/,
    );
  });

  it("another core protocol version is CORE_VERSION_MISMATCH", async () => {
    await failsWith(
      startFixture("bad-core-version"),
      "CORE_VERSION_MISMATCH",
      /Plugin version: 2, Core version: 1/,
    );
  });

  it("TestClient_grpcNotAllowed: a netrpc plugin is PROTOCOL_UNSUPPORTED", async () => {
    await failsWith(
      startFixture("netrpc"),
      "PROTOCOL_UNSUPPORTED",
      /unsupported plugin protocol "netrpc"/,
    );
  });

  it("an unknown network is PROTOCOL_UNSUPPORTED", async () => {
    await failsWith(
      startFixture("unknown-network"),
      "PROTOCOL_UNSUPPORTED",
      /unknown address type: 127.0.0.1:1234/,
    );
  });

  it("an address nobody listens on is UNAVAILABLE at start, not on the first call", async () => {
    await failsWith(
      startFixture("nothing-listens", { autoMtls: false }),
      "UNAVAILABLE",
      /cannot reach the plugin/,
    );
  });

  it("a malformed certificate is TLS_FAILED", async () => {
    await failsWith(startFixture("bad-cert"), "TLS_FAILED", /error parsing server cert/);
  });

  it("an unsolicited certificate is TLS_FAILED (a Go host would crash)", async () => {
    await failsWith(
      startFixture("unsolicited-cert", { autoMtls: false }),
      "TLS_FAILED",
      /did not ask for AutoMTLS/,
    );
  });

  it("a plugin without AutoMTLS support answering an AutoMTLS host is TLS_FAILED", async () => {
    await failsWith(
      startFixture("nothing-listens", { autoMtls: true }),
      "TLS_FAILED",
      /returned no certificate/,
    );
  });

  it("TestClient_Start_Timeout: no handshake in time is HANDSHAKE_TIMEOUT", async () => {
    await failsWith(
      startFixture("start-timeout", { startTimeoutMs: 300 }),
      "HANDSHAKE_TIMEOUT",
      /timeout while waiting for plugin to start \(300 ms\)/,
    );
  });

  it("exiting before the handshake is PLUGIN_EXITED with the plugin's stderr", async () => {
    await failsWith(
      startFixture("exit-early"),
      "PLUGIN_EXITED",
      /exit status 3[\s\S]*giving up before the handshake/,
    );
  });

  it("the wrong magic cookie is COOKIE_MISMATCH", async () => {
    await failsWith(
      startFixture("test-grpc", { handshake: { ...testHandshake, magicCookieValue: "wrong" } }),
      "COOKIE_MISMATCH",
      /did not receive the magic cookie/,
    );
  });

  it("an over-long socket directory is SOCKET_PATH_TOO_LONG, reported by the plugin", async () => {
    const root = mkdtempSync(join(tmpdir(), "pw-"));
    const long = join(root, "d".repeat(100));
    try {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(long);
      await failsWith(
        startFixture("test-grpc", { unixSocketDir: long }),
        "PLUGIN_EXITED",
        /SOCKET_PATH_TOO_LONG[\s\S]*PLUGIN_UNIX_SOCKET_DIR/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a missing executable is SPAWN_FAILED", async () => {
    await failsWith(
      startPlugin({ cmd: "/nonexistent/plugin", handshake: testHandshake }),
      "SPAWN_FAILED",
      /does not exist/,
    );
  });

  it("a file that is not executable is SPAWN_FAILED", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-"));
    const file = join(dir, "not-exec");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    chmodSync(file, 0o644);
    try {
      await failsWith(
        startPlugin({ cmd: file, handshake: testHandshake }),
        "SPAWN_FAILED",
        /not executable/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an aborted start is CANCELLED and kills the process", async () => {
    const controller = new AbortController();
    const start = startFixture("start-timeout", { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await failsWith(start, "CANCELLED", /start was cancelled/);
  });

  it("leaves no socket files behind after failures", async () => {
    using sockets = socketDir();
    await failsWith(
      startFixture("test-grpc", {
        unixSocketDir: sockets.dir,
        handshake: { ...testHandshake, magicCookieValue: "x" },
      }),
      "COOKIE_MISMATCH",
      /cookie/,
    );
    await assert.rejects(
      startFixture("start-timeout", { unixSocketDir: sockets.dir, startTimeoutMs: 200 }),
    );
    assert.deepEqual(sockets.leftovers(), []);
  });
});
