import { createHash, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { PluginError } from "../errors/plugin-error.ts";

/** The expected digest of a plugin executable (go-plugin's SecureConfig). */
export interface SecureConfig {
  /** Hex digest. */
  readonly checksum: string;
  /** A `node:crypto` hash name. Default `sha256`. */
  readonly hash?: string | undefined;
}

/**
 * Hashes the executable and compares in constant time before it is started; a mismatch means the
 * file is not the one the host trusts, so it is never run.
 */
export async function verifyChecksum(
  path: string,
  config: SecureConfig,
  plugin: string,
): Promise<void> {
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
  try {
    const hash = createHash(algorithm);
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    actual = hash.digest();
  } catch (error) {
    throw new PluginError("SPAWN_FAILED", `error verifying checksum: ${(error as Error).message}`, {
      plugin,
      cause: error,
    });
  }
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new PluginError(
      "CHECKSUM_MISMATCH",
      `checksums did not match: ${path} has ${algorithm} ${actual.toString("hex")}, expected ${config.checksum.toLowerCase()}. ` +
        "The executable changed since its checksum was recorded; it was not started. Reinstall the plugin or update the checksum.",
      { plugin, details: { path, actual: actual.toString("hex"), expected: config.checksum } },
    );
  }
}
