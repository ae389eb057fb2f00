import type { KeyObject } from "node:crypto";
import { createHash, generateKeyPair, randomBytes, sign, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { PluginError } from "../errors/plugin-error.ts";
import * as der from "./der.ts";

/** A fresh AutoMTLS identity: the certificate and key this process presents on every connection. */
export interface TlsIdentity {
  /** PEM `CERTIFICATE`, sent to plugins in `PLUGIN_CLIENT_CERT`. */
  readonly certPem: string;
  /** PEM PKCS#8 private key; it never leaves the process. */
  readonly keyPem: string;
  /** Unpadded standard base64 of the DER certificate: handshake field 6. */
  readonly certRawBase64: string;
}

const hoursOfValidity = 262_980; // ≈ 30 years, as go-plugin's mtls.go
const generateKeyPairAsync = promisify(generateKeyPair);

const oid = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  organization: "2.5.4.10",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/**
 * Generates a certificate of go-plugin's AutoMTLS recipe (mtls.go) on ECDSA P-256 / SHA-256
 * where go-plugin uses P-521 / SHA-512: self-signed, `O=HashiCorp, CN=localhost`, SAN `DNS:localhost`, CA, key usages
 * digitalSignature|keyEncipherment|keyAgreement|keyCertSign, both EKUs (each side is TLS client
 * and server because of the broker), valid from 30 s ago for about 30 years. The curve is ours to
 * choose: go-plugin v1.8.0 trusts whatever certificate the other side presents (client.go
 * loadServerCert parses the handshake's certificate into a pool, server.go adds
 * PLUGIN_CLIENT_CERT to one) and restricts neither curves nor signature schemes in its
 * tls.Config, and Go's x509 and TLS take P-256. A P-521 key and signature cost 7–27 ms of every
 * plugin start on this project's machines, P-256 under 1 ms (docs/performance.md, decision 15).
 */
export async function generateTlsIdentity(): Promise<TlsIdentity> {
  const { publicKey, privateKey } = await generateKeyPairAsync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const now = Date.now();
  const name = der.sequence(
    der.set(der.sequence(der.objectIdentifier(oid.organization), der.printableString("HashiCorp"))),
    der.set(der.sequence(der.objectIdentifier(oid.commonName), der.printableString("localhost"))),
  );
  const algorithm = der.sequence(der.objectIdentifier(oid.ecdsaWithSha256));
  const tbs = der.sequence(
    der.explicit(0, der.unsignedInteger(Buffer.from([2]))), // v3
    der.unsignedInteger(randomBytes(16)),
    algorithm,
    name,
    der.sequence(
      der.time(new Date(now - 30_000)),
      der.time(new Date(now + hoursOfValidity * 3_600_000)),
    ),
    name,
    spki,
    der.explicit(3, der.sequence(...extensions(spki))),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const certDer = der.sequence(tbs, algorithm, der.bitString(signature));
  return {
    certPem: toPem("CERTIFICATE", certDer),
    keyPem: (privateKey as KeyObject).export({ type: "pkcs8", format: "pem" }) as string,
    certRawBase64: certDer.toString("base64").replace(/=+$/, ""),
  };
}

function extensions(spki: Buffer): Buffer[] {
  const extension = (id: string, critical: boolean, value: Buffer) =>
    der.sequence(
      der.objectIdentifier(id),
      ...(critical ? [der.boolean(true)] : []),
      der.octetString(value),
    );
  // The key identifier is the SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1), as Go does.
  const keyBits = spki.subarray(spki.length - 65); // uncompressed P-256 point: 0x04 || X || Y
  return [
    // digitalSignature(0) keyEncipherment(2) keyAgreement(4) keyCertSign(5): 1010 1100, 2 unused bits
    extension(oid.keyUsage, true, der.bitString(Buffer.from([0xac]), 2)),
    extension(
      oid.extKeyUsage,
      false,
      der.sequence(der.objectIdentifier(oid.clientAuth), der.objectIdentifier(oid.serverAuth)),
    ),
    extension(oid.basicConstraints, true, der.sequence(der.boolean(true))),
    extension(
      oid.subjectKeyIdentifier,
      false,
      der.octetString(createHash("sha1").update(keyBits).digest()),
    ),
    extension(
      oid.subjectAltName,
      false,
      der.sequence(der.tlv(0x82, Buffer.from("localhost", "ascii"))),
    ),
  ];
}

function toPem(label: string, bytes: Buffer): string {
  const body = bytes.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * Decodes handshake field 6 as go-plugin does: strict RawStd base64 (no padding, no URL-safe
 * alphabet) of one DER certificate. Returns the PEM to trust.
 */
export function certPemFromHandshake(field: string): string {
  if (!/^[A-Za-z0-9+/]+$/.test(field) || field.length % 4 === 1) {
    throw new PluginError(
      "TLS_FAILED",
      `error parsing server cert: the handshake's certificate field is not unpadded standard base64 (${field.length} chars)`,
    );
  }
  try {
    return new X509Certificate(Buffer.from(field, "base64")).toString();
  } catch (error) {
    throw new PluginError("TLS_FAILED", `error parsing server cert: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Checks that `pem` holds a parsable certificate (PLUGIN_CLIENT_CERT from the host). */
export function assertCertificatePem(pem: string, what: string): void {
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new PluginError(
      "TLS_FAILED",
      `${what} is not a valid PEM certificate: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
