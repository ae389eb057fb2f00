import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PluginError } from "../../errors/plugin-error.ts";
import { formatSha256Sums, sha256File } from "../../trust/sha256sums.ts";
import { parsePrivateKey } from "../../trust/ssh-keys.ts";
import { signMessage } from "../../trust/sshsig.ts";
import { printJson } from "../output.ts";

export interface SignFlags {
  key: string;
  /** Write this SHA256SUMS file listing the files, and sign it instead of each file. */
  sums?: string | undefined;
  json?: boolean | undefined;
}

/**
 * `plugwire sign --key KEY FILE…`: writes `FILE.sig`, an SSHSIG signature in namespace
 * `plugwire`, the same bytes `ssh-keygen -Y sign -n plugwire -f KEY FILE` would verify as. With
 * `--sums SHA256SUMS`: writes the checksums of the files there and signs that file only.
 */
export async function sign(files: readonly string[], flags: SignFlags): Promise<number> {
  const keyFile = resolve(flags.key);
  let keyText: string;
  try {
    keyText = await readFile(keyFile, "utf8");
  } catch (error) {
    throw new PluginError(
      "CONFIG_INVALID",
      `cannot read the signing key ${keyFile}: ${(error as Error).message}`,
      {
        cause: error,
        details: { file: keyFile },
      },
    );
  }
  const key = parsePrivateKey(keyText, keyFile);
  const signed: { file: string; signature: string }[] = [];
  let targets = files.map((f) => resolve(f));
  if (flags.sums !== undefined) {
    const sums = resolve(flags.sums);
    const entries: [string, string][] = [];
    for (const file of targets) entries.push([basename(file), await readable(file, sha256File)]);
    await atomicWrite(sums, formatSha256Sums(entries));
    targets = [sums];
  }
  for (const file of targets) {
    const bytes = await readable(file, (f) => readFile(f));
    await atomicWrite(`${file}.sig`, signMessage(key, bytes));
    signed.push({ file, signature: `${file}.sig` });
  }
  if (flags.json === true)
    printJson({ key: key.publicKey.fingerprint, comment: key.publicKey.comment, signed });
  else
    for (const s of signed)
      process.stdout.write(`signed ${s.file} → ${s.signature} (${key.publicKey.fingerprint})\n`);
  return 0;
}

async function readable<T>(file: string, read: (file: string) => Promise<T>): Promise<T> {
  try {
    return await read(file);
  } catch (error) {
    throw new PluginError("CONFIG_INVALID", `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, { flag: "wx" });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
