// OpenSSH's SSHSIG format (PROTOCOL.sshsig), what `ssh-keygen -Y sign` writes, for ed25519 keys.
import { createHash, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { PluginError } from "../errors/plugin-error.ts";
import type { SshPrivateKey, SshPublicKey } from "./ssh-keys.ts";
import { parsePublicKeyBlob, publicKeyBlob, publicKeyObject } from "./ssh-keys.ts";
import { SshReader, sshString, sshUint32 } from "./ssh-wire.ts";

/** The namespace plugwire signs and verifies in (`ssh-keygen -Y sign -n plugwire`). */
export const signatureNamespace = "plugwire";

const magic = Buffer.from("SSHSIG", "latin1");
const begin = "-----BEGIN SSH SIGNATURE-----";
const end = "-----END SSH SIGNATURE-----";

/** The hash algorithms PROTOCOL.sshsig allows for the message. */
export type SshSigHash = "sha256" | "sha512";

/** A parsed SSHSIG signature. */
export interface SshSignature {
  /** The key the signature claims to be made by (not yet trusted). */
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: SshSigHash;
  /** The raw 64-byte ed25519 signature. */
  readonly signature: Uint8Array;
}

function invalid(file: string, why: string, plugin?: string): PluginError {
  return new PluginError(
    "SIGNATURE_INVALID",
    `${file}: ${why}. Get the signature again from the publisher, or re-sign with plugwire sign / ssh-keygen -Y sign -n ${signatureNamespace}`,
    { plugin, details: { file } },
  );
}

/** Parses an armored `-----BEGIN SSH SIGNATURE-----` block; errors are `SIGNATURE_INVALID`. */
export function parseSignature(text: string, file: string, plugin?: string): SshSignature {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from)
    throw invalid(file, "not an SSH signature (no BEGIN SSH SIGNATURE block)", plugin);
  const blob = Buffer.from(text.slice(from + begin.length, to).replace(/\s+/g, ""), "base64");
  try {
    if (!blob.subarray(0, 6).equals(magic))
      throw invalid(file, "the signature does not start with SSHSIG", plugin);
    const reader = new SshReader(blob.subarray(6));
    const version = reader.uint32();
    if (version !== 1)
      throw invalid(file, `SSHSIG version ${version} is not supported (expected 1)`, plugin);
    const keyBlob = reader.string();
    const namespace = reader.text();
    reader.string(); // reserved
    const hashAlgorithm = reader.text();
    const sigBlob = new SshReader(reader.string());
    if (reader.rest().length !== 0)
      throw invalid(file, "trailing bytes after the signature", plugin);
    const publicKey = parsePublicKeyBlob(keyBlob);
    if (publicKey === undefined)
      throw invalid(
        file,
        "the signing key is not ed25519 (plugwire verifies ssh-ed25519 signatures)",
        plugin,
      );
    if (hashAlgorithm !== "sha256" && hashAlgorithm !== "sha512")
      throw invalid(
        file,
        `hash algorithm ${JSON.stringify(hashAlgorithm)} is not sha256 or sha512`,
        plugin,
      );
    const sigType = sigBlob.text();
    const signature = sigBlob.string();
    if (sigType !== "ssh-ed25519" || signature.length !== 64)
      throw invalid(
        file,
        `the signature is a ${sigType} signature, not a 64-byte ssh-ed25519 one`,
        plugin,
      );
    return { publicKey, namespace, hashAlgorithm, signature: new Uint8Array(signature) };
  } catch (error) {
    if (error instanceof PluginError) throw error;
    throw invalid(file, "the signature is truncated or corrupt", plugin);
  }
}

/** What is signed: PROTOCOL.sshsig's signed-data structure over the message's digest. */
export function signedData(
  namespace: string,
  hashAlgorithm: SshSigHash,
  message: Uint8Array,
): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([
    magic,
    sshString(namespace),
    sshString(""),
    sshString(hashAlgorithm),
    sshString(digest),
  ]);
}

/**
 * Checks the signature over `message` in the `plugwire` namespace. True when the claimed key made
 * it; says nothing about whether that key is trusted (see `verifyFile` in trust-policy.ts).
 */
export function signatureMatches(signature: SshSignature, message: Uint8Array): boolean {
  if (signature.namespace !== signatureNamespace) return false;
  return cryptoVerify(
    null,
    signedData(signature.namespace, signature.hashAlgorithm, message),
    publicKeyObject(signature.publicKey.raw),
    signature.signature,
  );
}

/** Signs `message` as `ssh-keygen -Y sign -n plugwire` does (sha512), returning the armored text. */
export function signMessage(key: SshPrivateKey, message: Uint8Array): string {
  const data = signedData(signatureNamespace, "sha512", message);
  const raw = cryptoSign(null, data, key.key);
  const blob = Buffer.concat([
    magic,
    sshUint32(1),
    sshString(publicKeyBlob(key.publicKey.raw)),
    sshString(signatureNamespace),
    sshString(""),
    sshString("sha512"),
    sshString(Buffer.concat([sshString("ssh-ed25519"), sshString(raw)])),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return `${begin}\n${lines.join("\n")}\n${end}\n`;
}
