// plugwire's TypeScript host loads the Python (grpcio) KV plugin: unix and TCP, with and without
// AutoMTLS.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { handshake, plugins } from "../../examples/kv/shared.ts";
import type { StartOptions } from "../../src/index.ts";
import { PluginError, startPlugin } from "../../src/index.ts";
import { recordingLogger, waitFor } from "../support/fixture.ts";
import { pythonBinary, pythonPlugin } from "../support/interop.ts";

function startPython(options: Partial<StartOptions<typeof plugins>> = {}) {
  return startPlugin({
    cmd: pythonBinary(),
    args: [pythonPlugin],
    name: "kv-python",
    handshake,
    plugins,
    ...options,
  });
}

describe("TypeScript host → Python plugin", () => {
  for (const network of ["unix", "tcp"] as const) {
    for (const autoMtls of [false, true]) {
      it(`puts and gets over ${network}, ${autoMtls ? "AutoMTLS" : "plain"}, mirrors logs, stops gracefully`, async () => {
        const dir = mkdtempSync(join(tmpdir(), "pw-py-"));
        const { logger, entries } = recordingLogger();
        try {
          const plugin = await startPython({ network, autoMtls, cwd: dir, logger });
          assert.equal(plugin.network, network);
          assert.equal(plugin.tls, autoMtls);
          const kv = plugin.dispense("kv");
          await kv.put({ key: "hello", value: Buffer.from("world") });
          const got = await kv.get({ key: "hello" });
          assert.equal(Buffer.from(got.value).toString(), "world\n\nWritten from plugin-python");
          await assert.rejects(
            kv.get({ key: "missing" }),
            (e: unknown) => e instanceof PluginError && e.code === "NOT_FOUND",
          );
          await plugin.ping();
          await waitFor(
            () => entries.some((e) => e.message === "put" && e.level === "info"),
            5000,
            "mirrored put log",
          );
          await plugin.kill();
          const exit = await plugin.exited;
          assert.equal(exit.forced, false);
          assert.equal(exit.code, 0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }

  it("reports the Python plugin's cookie refusal as COOKIE_MISMATCH", async () => {
    await assert.rejects(
      startPython({ handshake: { ...handshake, magicCookieValue: "nope" } }),
      (e: unknown) => {
        return e instanceof PluginError && e.code === "COOKIE_MISMATCH" && e.plugin === "kv-python";
      },
    );
  });

  it("reports a version mismatch as PROTOCOL_VERSION_MISMATCH", async () => {
    await assert.rejects(
      startPython({ versions: [2] }),
      (e: unknown) => e instanceof PluginError && e.code === "PROTOCOL_VERSION_MISMATCH",
    );
  });
});
