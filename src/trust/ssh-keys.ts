import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { PluginError } from "../errors/plugin-error.ts";
import { SshReader, sshString } from "./ssh-wire.ts";

/** An ed25519 public key as OpenSSH writes it (`ssh-ed25519 AAAA… comment`). */
export interface SshPublicKey {
  /** The 32 raw key bytes. */
  readonly raw: Uint8Array;
  /** OpenSSH's fingerprint, `SHA256:<base64 without padding>` (what `ssh-keygen -l` prints). */
  readonly fingerprint: string;
  /** The comment after the key, or the allowed_signers principals; may be empty. */
  readonly comment: string;
}

const keyType = "ssh-ed25519";

/** The SSH wire blob of an ed25519 public key: `string "ssh-ed25519", string key`. */
export function publicKeyBlob(raw: Uint8Array): Buffer {
  return Buffer.concat([sshString(keyType), sshString(Buffer.from(raw))]);
}

/** Reads a public key blob; undefined when it is not an ed25519 key. */
export function parsePublicKeyBlob(blob: Buffer, comment = ""): SshPublicKey | undefined {
  try {
    const reader = new SshReader(blob);
    if (reader.text() !== keyType) return undefined;
    const raw = reader.string();
    if (raw.length !== 32 || reader.rest().length !== 0) return undefined;
    return { raw: new Uint8Array(raw), fingerprint: fingerprintOf(raw), comment };
  } catch {
    return undefined;
  }
}

/** `SHA256:…` of the key blob, as OpenSSH prints fingerprints. */
export function fingerprintOf(raw: Uint8Array): string {
  const digest = createHash("sha256").update(publicKeyBlob(raw)).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** The OpenSSH one-line form of a public key. */
export function formatPublicKey(key: SshPublicKey): string {
  const line = `${keyType} ${publicKeyBlob(key.raw).toString("base64")}`;
  return key.comment === "" ? line : `${line} ${key.comment}`;
}

/** A node:crypto key object for verifying with `crypto.verify(null, …)`. */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

/** An unencrypted OpenSSH ed25519 private key, read from its file. */
export interface SshPrivateKey {
  readonly publicKey: SshPublicKey;
  readonly key: KeyObject;
}

const privateBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
const privateEnd = "-----END OPENSSH PRIVATE KEY-----";

/**
 * Parses an OpenSSH private key file (`ssh-keygen -t ed25519 -N ''`, format `openssh-key-v1`).
 * Passphrase-protected keys are refused with a message saying to use ssh-keygen -Y sign instead.
 */
export function parsePrivateKey(text: string, file: string): SshPrivateKey {
  const fail = (why: string): never => {
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}: not a usable signing key: ${why}. Give an unencrypted OpenSSH ed25519 private key (ssh-keygen -t ed25519 -N '' -f KEY), or sign with ssh-keygen -Y sign -n plugwire -f KEY FILE`,
      { details: { file } },
    );
  };
  const begin = text.indexOf(privateBegin);
  const end = text.indexOf(privateEnd);
  if (begin < 0 || end < begin) return fail("no OPENSSH PRIVATE KEY block");
  const body = Buffer.from(
    text.slice(begin + privateBegin.length, end).replace(/\s+/g, ""),
    "base64",
  );
  try {
    const magic = Buffer.from("openssh-key-v1\0", "latin1");
    if (!body.subarray(0, magic.length).equals(magic)) return fail("not openssh-key-v1");
    const reader = new SshReader(body.subarray(magic.length));
    const cipher = reader.text();
    const kdf = reader.text();
    reader.string(); // kdf options
    if (cipher !== "none" || kdf !== "none")
      return fail(
        `it is encrypted (${cipher}, ${kdf}); plugwire sign does not ask for passphrases`,
      );
    if (reader.uint32() !== 1) return fail("the file holds more than one key");
    reader.string(); // public key blob, repeated in the private section
    const secret = new SshReader(reader.string());
    const check = secret.uint32();
    if (secret.uint32() !== check) return fail("its check numbers differ (corrupt)");
    const type = secret.text();
    if (type !== keyType) return fail(`it is a ${type} key, not ed25519`);
    const pub = secret.string();
    const priv = secret.string();
    const comment = secret.text();
    if (pub.length !== 32 || priv.length !== 64) return fail("wrong ed25519 key lengths");
    const key = createPrivateKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        d: priv.subarray(0, 32).toString("base64url"),
        x: pub.toString("base64url"),
      },
      format: "jwk",
    });
    return {
      key,
      publicKey: { raw: new Uint8Array(pub), fingerprint: fingerprintOf(pub), comment },
    };
  } catch (error) {
    if (error instanceof PluginError) throw error;
    return fail("it is truncated or corrupt");
  }
}
