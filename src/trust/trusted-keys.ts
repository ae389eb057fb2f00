import { readFile } from "node:fs/promises";
import { PluginError } from "../errors/plugin-error.ts";
import type { SshPublicKey } from "./ssh-keys.ts";
import { parsePublicKeyBlob } from "./ssh-keys.ts";

/** A public key the host trusts to sign plugins. */
export interface TrustedKey extends SshPublicKey {
  /** Where it was listed: `file:line`, or `config` for an inline key. */
  readonly source: string;
  /** allowed_signers `namespaces="…"`: the namespaces the key may sign for; undefined = any. */
  readonly namespaces: readonly string[] | undefined;
}

/**
 * Parses trusted keys, one a line, in either OpenSSH form:
 *
 * - `ssh-ed25519 AAAA… comment` (a `.pub` file, authorized_keys style);
 * - allowed_signers: `principal[,principal…] [namespaces="plugwire"] ssh-ed25519 AAAA…`.
 *
 * Blank lines and `#` comments are skipped. Other key types, `cert-authority` and options other
 * than `namespaces` (such as `valid-before`) are refused rather than ignored, so a restriction is
 * never silently dropped.
 */
export function parseTrustedKeys(text: string, source: string): TrustedKey[] {
  const keys: TrustedKey[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = source === "config" ? "config" : `${source}:${i + 1}`;
    const fail = (why: string): never => {
      throw new PluginError(
        "CONFIG_INVALID",
        `${where}: ${why}. Trusted keys are \`ssh-ed25519 AAAA… comment\` lines or allowed_signers lines \`principal namespaces="plugwire" ssh-ed25519 AAAA…\``,
        { details: { file: source, line: i + 1 } },
      );
    };
    const tokens = tokenize(line);
    const at = tokens.findIndex((t) => /^(ssh-|ecdsa-|sk-)/.test(t));
    if (at < 0) return fail("no public key on the line");
    if (tokens[at] !== "ssh-ed25519")
      return fail(`${tokens[at]} keys are not supported (only ssh-ed25519)`);
    const blob = Buffer.from(tokens[at + 1] ?? "", "base64");
    const comment = at === 0 ? tokens.slice(2).join(" ") : tokens[0]!;
    const key = parsePublicKeyBlob(blob, comment);
    if (key === undefined) return fail("the key is not a valid ssh-ed25519 public key");
    let namespaces: string[] | undefined;
    for (const option of at === 0 ? [] : tokens.slice(1, at).flatMap(splitOptions)) {
      const ns = /^namespaces="([^"]*)"$/i.exec(option);
      if (ns !== null) namespaces = ns[1]!.split(",").map((n) => n.trim());
      else return fail(`option ${option} is not supported (only namespaces="…")`);
    }
    keys.push({ ...key, source: where, namespaces });
  }
  return keys;
}

/** Reads a trusted keys file (see `parseTrustedKeys`); a missing file is `CONFIG_INVALID`. */
export async function readTrustedKeys(file: string): Promise<TrustedKey[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PluginError(
      "CONFIG_INVALID",
      `cannot read trusted keys ${file}: ${(error as Error).message}. Point trusted_keys (or --trusted) at a file of ssh-ed25519 public key lines`,
      { cause: error, details: { file } },
    );
  }
  return parseTrustedKeys(text, file);
}

/** Splits on spaces outside double quotes. */
function tokenize(line: string): string[] {
  return line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

/** allowed_signers options are comma-separated, with commas allowed inside quotes. */
function splitOptions(token: string): string[] {
  return token.match(/(?:[^,"]+|"[^"]*")+/g) ?? [];
}
