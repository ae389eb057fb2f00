// Helpers for tests that drive real plugin processes.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger, LogLevel, StartOptions } from "../../src/index.ts";
import { startPlugin } from "../../src/index.ts";
import { processAlive } from "../../src/platform/process.ts";
import { Fixture } from "../fixtures/gen/fixture_pb.js";
import { PingPong, Test } from "../fixtures/gen/grpctest_pb.js";
import { waitFor } from "./wait.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const fixturePlugin = join(repoRoot, "test/fixtures/fixture-plugin");
export const testHandshake = {
  magicCookieKey: "TEST_MAGIC_COOKIE",
  magicCookieValue: "test",
  protocolVersion: 1,
};
export const testPlugins = { test: Test, pingpong: PingPong, fixture: Fixture } as const;

/** A logger that records entries, for assertions on mirrored logs. */
export function recordingLogger() {
  const entries: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      entries.push({ level, message, fields });
  const logger: Logger = {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, entries };
}

/** A short private socket directory; `assertEmpty` checks nothing was left in it. */
export function socketDir() {
  const dir = mkdtempSync(join(tmpdir(), "pw-"));
  return {
    dir,
    leftovers: () => readdirSync(dir),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts the fixture plugin in `scenario`. */
export function startFixture(
  scenario: string,
  options: Partial<StartOptions<typeof testPlugins>> = {},
) {
  return startPlugin({
    cmd: fixturePlugin,
    handshake: testHandshake,
    plugins: testPlugins,
    startTimeoutMs: 20_000,
    ...options,
    args: [scenario, ...(options.args ?? [])],
  });
}

export { waitFor };

/** Waits until process `pid` is gone (a zombie still counts as running until it is reaped). */
export async function waitForExit(pid: number, timeoutMs = 5000): Promise<void> {
  await waitFor(() => !processAlive(pid), timeoutMs, `process ${pid} to exit`);
}

export { processAlive };
