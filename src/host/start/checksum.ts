import { createHash, timingSafeEqual } from "node:crypto";
import { closeSync, fstatSync, openSync, read } from "node:fs";
import { promisify } from "node:util";
import { PluginError } from "../../errors/plugin-error.ts";
import type { Step } from "../../internal/step.ts";
import { stepError } from "../../internal/step.ts";
import type { SecureConfig } from "../options.ts";

export type { SecureConfig } from "../options.ts";

/**
 * Test hooks. `afterVerify` runs the moment a file's digest matched, before anything else happens
 * (a test swaps the file there to prove the verified bytes are the ones that run).
 * @internal
 */
export const checksumHooks: { afterVerify?: ((path: string) => void | Promise<void>) | undefined } =
  {};

/** An executable opened once and verified from that open file: what runs is what was hashed. */
export interface VerifiedFile {
  readonly path: string;
  /** Open read-only; the launcher execs it through `/proc/self/fd/<n>` and closes it. */
  readonly fd: number;
  close(): void;
}

const readAt = promisify(read);

/**
 * Opens the executable once, hashes it from that file descriptor and compares in constant time; a
 * mismatch means the file is not the one the host trusts, so it is never run. On a match the open
 * file is returned: launching it by descriptor runs exactly the bytes that were hashed, whatever
 * happens to the path meanwhile (go-plugin re-opens the path, a swap in between runs unverified).
 * The hashing stops between reads once `step`'s signal fires (a large executable takes a while),
 * rejecting with the step's error and closing the file.
 */
export async function openVerified(
  path: string,
  config: SecureConfig,
  plugin: string,
  step?: Step,
): Promise<VerifiedFile> {
  const algorithm = config.hash ?? "sha256";
  if (!/^[0-9a-fA-F]+$/.test(config.checksum) || config.checksum.length % 2 !== 0) {
    throw new PluginError(
      "CONFIG_INVALID",
      "error verifying checksum: no checksum provided (expected a hex digest)",
      { plugin },
    );
  }
  const expected = Buffer.from(config.checksum, "hex");
  let actual: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    const hash = createHash(algorithm);
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      if (step?.signal.aborted === true) throw stepError(step.signal, "start").withPlugin(plugin);
      // Sequential reads from the open file: the bytes hashed are the bytes of that inode.
      const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    actual = hash.digest();
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    if (error instanceof PluginError) throw error; // the step's signal fired
    throw new PluginError("SPAWN_FAILED", `error verifying checksum: ${(error as Error).message}`, {
      plugin,
      cause: error,
    });
  }
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    closeSync(fd);
    throw new PluginError(
      "CHECKSUM_MISMATCH",
      `checksums did not match: ${path} has ${algorithm} ${actual.toString("hex")}, expected ${config.checksum.toLowerCase()}. ` +
        "The executable changed since its checksum was recorded; it was not started. Reinstall the plugin or update the checksum.",
      { plugin, details: { path, actual: actual.toString("hex"), expected: config.checksum } },
    );
  }
  const opened = fd;
  let closed = false;
  const file: VerifiedFile = {
    path,
    fd: opened,
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(opened);
    },
  };
  try {
    await checksumHooks.afterVerify?.(path);
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

/** Verifies the executable's checksum (see `openVerified`) without keeping it open. */
export async function verifyChecksum(
  path: string,
  config: SecureConfig,
  plugin: string,
): Promise<void> {
  (await openVerified(path, config, plugin)).close();
}
