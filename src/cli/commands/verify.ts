import { resolve } from "node:path";
import { PluginError } from "../../errors/plugin-error.ts";
import type { TrustPolicy } from "../../trust/trust-policy.ts";
import { verifyArtifact } from "../../trust/trust-policy.ts";
import type { TrustedKey } from "../../trust/trusted-keys.ts";
import { readTrustedKeys } from "../../trust/trusted-keys.ts";
import { UsageError } from "../context.ts";
import { printJson } from "../output.ts";

export interface VerifyFlags {
  /** Trusted keys files (repeatable). */
  trusted: string[];
  /** The signature of the (single) file. Default `FILE.sig`. */
  signature?: string | undefined;
  /** A SHA256SUMS file (signed in `SHA256SUMS.sig`) that lists the files. */
  sums?: string | undefined;
  json?: boolean | undefined;
}

/**
 * `plugwire verify --trusted KEYS FILE…`: each file must carry a valid signature by a trusted
 * key (its own `FILE.sig`, or a signed `--sums` file listing it). Exit 0 when all do, 1 otherwise,
 * with each failure's code and reason.
 */
export async function verify(files: readonly string[], flags: VerifyFlags): Promise<number> {
  if (flags.signature !== undefined && files.length !== 1)
    throw new UsageError("--signature names the signature of one file; give exactly one FILE");
  const keys: TrustedKey[] = [];
  for (const file of flags.trusted) keys.push(...(await readTrustedKeys(resolve(file))));
  const policy: TrustPolicy = { signatures: "required", keys };
  const results: Record<string, unknown>[] = [];
  let failed = 0;
  for (const name of files) {
    const file = resolve(name);
    try {
      const result = await verifyArtifact(file, {
        policy,
        signature: flags.signature === undefined ? undefined : resolve(flags.signature),
        sums: flags.sums === undefined ? undefined : resolve(flags.sums),
      });
      const signer = result.signer!;
      results.push({
        file,
        ok: true,
        sha256: result.sha256,
        signature: result.signatureFile,
        key: signer.fingerprint,
        comment: signer.comment,
      });
      if (flags.json !== true)
        process.stdout.write(
          `ok ${file}: signed by ${signer.fingerprint}${signer.comment === "" ? "" : ` (${signer.comment})`}\n`,
        );
    } catch (error) {
      const failure = PluginError.from(error);
      failed++;
      results.push({ file, ok: false, code: failure.code, message: failure.rawMessage });
      if (flags.json !== true) process.stderr.write(`FAIL ${file}: ${failure.message}\n`);
    }
  }
  if (flags.json === true) printJson({ ok: failed === 0, results });
  return failed === 0 ? 0 : 1;
}
