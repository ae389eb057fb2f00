import { isAbsolute, join } from "node:path";
import type { SignaturePolicy, TrustPolicy } from "./trust-policy.ts";
import type { TrustedKey } from "./trusted-keys.ts";
import { parseTrustedKeys, readTrustedKeys } from "./trusted-keys.ts";

/**
 * A `[trust]` table of plugwire.toml, globally or per service (`[services.<name>.trust]`):
 *
 * ```toml
 * [trust]
 * signatures = "required"                 # required | if-present (default) | off
 * trusted_keys = ["keys/release.pub"]     # files of ssh-ed25519 lines or allowed_signers lines
 * keys = ["ssh-ed25519 AAAAC3… release@example.com"]   # inline, same forms
 * ```
 *
 * Paths are relative to the config file. Keys are read when a policy is built (`trustPolicy`).
 */
export interface TrustSettings {
  readonly signatures: SignaturePolicy | undefined;
  /** Absolute paths of key files. */
  readonly keyFiles: readonly string[] | undefined;
  /** Inline key lines. */
  readonly keys: readonly string[] | undefined;
}

/** Reports a bad key at `path` (config.ts's `fail`: names the file, line and key). */
export type ConfigFail = (path: string[], message: string) => never;

const policies: readonly SignaturePolicy[] = ["required", "if-present", "off"];

/**
 * Parses a `trust` table (undefined when absent). `base` is the config's folder; `fail` raises
 * the config's `CONFIG_INVALID` at a key. Inline keys are checked here, key files when read.
 */
export function parseTrustSettings(
  value: unknown,
  path: string[],
  base: string,
  fail: ConfigFail,
): TrustSettings | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date)
    return fail(path, `expected a table, got ${JSON.stringify(value)}`);
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (!["signatures", "trusted_keys", "keys"].includes(key))
      fail([...path, key], "unknown key (expected one of: signatures, trusted_keys, keys)");
  const strings = (key: string): string[] | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === ""))
      return fail([...path, key], `expected an array of strings, got ${JSON.stringify(v)}`);
    return v as string[];
  };
  const signatures = t.signatures;
  if (signatures !== undefined && !policies.includes(signatures as SignaturePolicy))
    fail(
      [...path, "signatures"],
      `expected "required", "if-present" or "off", got ${JSON.stringify(signatures)}`,
    );
  const keys = strings("keys");
  try {
    for (const line of keys ?? []) parseTrustedKeys(line, "config");
  } catch (error) {
    fail([...path, "keys"], (error as Error).message.replace(/^\[CONFIG_INVALID\] config: /, ""));
  }
  return {
    signatures: signatures as SignaturePolicy | undefined,
    keyFiles: strings("trusted_keys")?.map((p) => (isAbsolute(p) ? p : join(base, p))),
    keys,
  };
}

/**
 * The policy for one source: the service's `trust` table over the global one. A service that
 * lists keys (`trusted_keys` or `keys`) trusts only those, so a source can be pinned to its own
 * publisher; `signatures` falls back to the global setting, then `if-present`.
 */
export async function trustPolicy(
  global: TrustSettings | undefined,
  service?: TrustSettings,
): Promise<TrustPolicy> {
  const own = service?.keyFiles !== undefined || service?.keys !== undefined;
  const from = own ? service : global;
  const keys: TrustedKey[] = [];
  for (const file of from?.keyFiles ?? []) keys.push(...(await readTrustedKeys(file)));
  for (const line of from?.keys ?? []) keys.push(...parseTrustedKeys(line, "config"));
  return { signatures: service?.signatures ?? global?.signatures ?? "if-present", keys };
}
