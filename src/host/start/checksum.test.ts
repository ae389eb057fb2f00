// A launch runs exactly the bytes it verified: a plugin file swapped right after its checksum
// matched (the hook makes the window deterministic) never runs; a tampered file is refused with
// CHECKSUM_MISMATCH naming the file and what to do.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeImpostor, writeLauncher } from "../../../test/fixtures/hostile/launcher.ts";
import { testHandshake, testPlugins } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { checksumHooks } from "./checksum.ts";
import { startPlugin } from "./start.ts";

describe("checksum and exec", { timeout: 60_000 }, () => {
  it("a file swapped right after its checksum matched never runs: the verified bytes do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-sum-"));
    try {
      const path = join(dir, "plugin");
      const checksum = await writeLauncher(path);
      const marker = join(dir, "unverified-ran");
      writeImpostor(join(dir, "evil"), marker);
      checksumHooks.afterVerify = () => {
        checksumHooks.afterVerify = undefined;
        renameSync(join(dir, "evil"), path); // an atomic swap, as an installer would do
      };
      await using plugin = await startPlugin({
        cmd: path,
        handshake: testHandshake,
        plugins: testPlugins,
        secure: { checksum },
        startTimeoutMs: 20_000,
      });
      await plugin.ping();
      assert.equal(existsSync(marker), false, "the swapped-in file did not run");
    } finally {
      checksumHooks.afterVerify = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a tampered file is refused with CHECKSUM_MISMATCH naming the file and what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-sum-"));
    try {
      const path = join(dir, "plugin");
      const checksum = await writeLauncher(path);
      const marker = join(dir, "unverified-ran");
      writeImpostor(path, marker);
      await assert.rejects(
        startPlugin({
          cmd: path,
          handshake: testHandshake,
          plugins: testPlugins,
          secure: { checksum },
        }),
        (e: unknown) =>
          e instanceof PluginError &&
          e.code === "CHECKSUM_MISMATCH" &&
          e.message.includes(path) &&
          e.message.includes("Reinstall the plugin or update the checksum"),
      );
      assert.equal(existsSync(marker), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
