import { createHash, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import { parseSha256Sums } from "./sha256sums.ts";
import { parseSignature, signatureMatches, signatureNamespace } from "./sshsig.ts";
import type { TrustedKey } from "./trusted-keys.ts";

/**
 * What a host asks of signatures: `required` refuses unsigned artifacts; `if-present` verifies a
 * signature when there is one and accepts unsigned artifacts; `off` never looks.
 */
export type SignaturePolicy = "required" | "if-present" | "off";

/** The keys a host trusts and what it requires, for one source or for all. */
export interface TrustPolicy {
  readonly signatures: SignaturePolicy;
  readonly keys: readonly TrustedKey[];
}

export interface VerifyArtifactOptions {
  readonly policy: TrustPolicy;
  /** Named in errors. */
  readonly plugin?: string | undefined;
  /** The artifact's signature. Default `<file>.sig` (what `plugwire sign` and ssh-keygen write). */
  readonly signature?: string | undefined;
  /**
   * A `SHA256SUMS` file listing the artifact, signed in `<sums>.sig`: the sums file's signature
   * is verified, then the artifact's line. Used instead of a signature on the artifact itself.
   */
  readonly sums?: string | undefined;
  /** The artifact's name in `sums`. Default the file's base name. */
  readonly name?: string | undefined;
}

/** What verification found. */
export interface ArtifactVerification {
  /** `signed`: a trusted signature covers the file; `unsigned`: none, and the policy allows it; `unchecked`: policy off. */
  readonly status: "signed" | "unsigned" | "unchecked";
  /** The SHA-256 of the bytes verified, lowercase hex (for the lock file). */
  readonly sha256: string;
  /** The trusted key that signed, when signed. */
  readonly signer: TrustedKey | undefined;
  /** The signature file that was checked (the artifact's or the SHA256SUMS one). */
  readonly signatureFile: string | undefined;
}

/**
 * Verifies an artifact against a trust policy. Errors: `SIGNATURE_MISSING` (unsigned under
 * `required`, or not listed in a signed SHA256SUMS), `SIGNATURE_UNTRUSTED` (a valid signature by a
 * key not in the policy), `SIGNATURE_INVALID` (malformed, another namespace, or the file or the
 * sums file changed after signing).
 */
export async function verifyArtifact(
  file: string,
  options: VerifyArtifactOptions,
): Promise<ArtifactVerification> {
  const { policy, plugin } = options;
  const bytes = await readFile(file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (policy.signatures === "off")
    return { status: "unchecked", sha256, signer: undefined, signatureFile: undefined };
  const signed = options.sums ?? file;
  const signatureFile =
    options.sums === undefined ? (options.signature ?? `${file}.sig`) : `${options.sums}.sig`;
  if (!existsSync(signatureFile)) {
    if (policy.signatures === "required")
      throw new PluginError(
        "SIGNATURE_MISSING",
        `${file} is not signed: no ${signatureFile}, and the trust policy requires signatures. Ask the publisher for the signature (plugwire sign / ssh-keygen -Y sign -n ${signatureNamespace}), or set signatures = "if-present" for this source`,
        { plugin, details: { file, signatureFile } },
      );
    return { status: "unsigned", sha256, signer: undefined, signatureFile: undefined };
  }
  const message = options.sums === undefined ? bytes : await readFile(options.sums);
  const text = await readFile(signatureFile, "utf8");
  const signer = checkSignature(message, signed, signatureFile, text, policy, plugin);
  if (options.sums !== undefined) {
    const name = options.name ?? basename(file);
    const listed = parseSha256Sums(message.toString("utf8")).get(name);
    if (listed === undefined)
      throw new PluginError(
        "SIGNATURE_MISSING",
        `${options.sums} is signed but does not list ${name}, so nothing signed covers ${file}. Use the SHA256SUMS published with this artifact`,
        { plugin, details: { file, sums: options.sums } },
      );
    if (!timingSafeEqual(Buffer.from(listed, "hex"), Buffer.from(sha256, "hex")))
      throw new PluginError(
        "SIGNATURE_INVALID",
        `${file} has sha256 ${sha256}, but the signed ${options.sums} lists ${listed}: the file changed after it was signed. Download it again; do not run it`,
        { plugin, details: { file, sums: options.sums, actual: sha256, expected: listed } },
      );
  }
  return { status: "signed", sha256, signer, signatureFile };
}

/**
 * Verifies an SSHSIG signature (its armored `text`, read from `signatureFile`) over `message`,
 * then that its key is trusted; returns the key.
 */
export function checkSignature(
  message: Uint8Array,
  file: string,
  signatureFile: string,
  text: string,
  policy: TrustPolicy,
  plugin?: string,
): TrustedKey {
  const signature = parseSignature(text, signatureFile, plugin);
  if (signature.namespace !== signatureNamespace)
    throw new PluginError(
      "SIGNATURE_INVALID",
      `${signatureFile} was made for namespace ${JSON.stringify(signature.namespace)}, not ${JSON.stringify(signatureNamespace)}: it does not sign a plugin. Sign with -n ${signatureNamespace}`,
      { plugin, details: { file, signatureFile, namespace: signature.namespace } },
    );
  if (!signatureMatches(signature, message))
    throw new PluginError(
      "SIGNATURE_INVALID",
      `${signatureFile} does not match ${file}: the file changed after it was signed, or the signature belongs to another file. Download both again; do not run it`,
      { plugin, details: { file, signatureFile, key: signature.publicKey.fingerprint } },
    );
  const trusted = policy.keys.find(
    (key) =>
      key.fingerprint === signature.publicKey.fingerprint &&
      (key.namespaces === undefined || key.namespaces.includes(signatureNamespace)),
  );
  if (trusted === undefined)
    throw new PluginError(
      "SIGNATURE_UNTRUSTED",
      `${file} is signed by ${signature.publicKey.fingerprint}, which is not a trusted key${policy.keys.length === 0 ? " (no keys are trusted)" : ` (trusted: ${policy.keys.map((k) => k.fingerprint).join(", ")})`}. If you trust its publisher, add their public key to trusted_keys`,
      { plugin, details: { file, signatureFile, key: signature.publicKey.fingerprint } },
    );
  return trusted;
}
