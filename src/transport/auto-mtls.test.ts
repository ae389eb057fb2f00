import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { certPemFromHandshake, generateTlsIdentity } from "./auto-mtls.ts";

describe("AutoMTLS certificates", () => {
  it("follows go-plugin's recipe on P-256 / SHA-256 (localhost, CA, both EKUs)", async () => {
    const identity = await generateTlsIdentity();
    const cert = new X509Certificate(identity.certPem);
    assert.equal(cert.subject, "O=HashiCorp\nCN=localhost");
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.subjectAltName, "DNS:localhost");
    assert.equal(cert.ca, true);
    assert.deepEqual(cert.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    assert.ok(cert.verify(cert.publicKey), "self-signed");
    assert.ok(Date.parse(cert.validFrom) <= Date.now() - 29_000);
    assert.ok(Date.parse(cert.validTo) > Date.now() + 29 * 365 * 24 * 3600 * 1000);
    assert.match(identity.certRawBase64, /^[A-Za-z0-9+/]+$/);
    // ~614 characters (go-plugin's P-521 ones are ~794); serial and signature lengths vary a little.
    assert.ok(
      Math.abs(identity.certRawBase64.length - 614) <= 12,
      String(identity.certRawBase64.length),
    );
    assert.equal(certPemFromHandshake(identity.certRawBase64), cert.toString());
  });

  it("is accepted by OpenSSL for both server and client use", async () => {
    const identity = await generateTlsIdentity();
    const dir = mkdtempSync(join(tmpdir(), "pw-cert-"));
    try {
      const file = join(dir, "cert.pem");
      writeFileSync(file, identity.certPem);
      for (const purpose of ["sslserver", "sslclient"]) {
        const out = execFileSync("openssl", [
          "verify",
          "-CAfile",
          file,
          "-purpose",
          purpose,
          file,
        ]).toString();
        assert.match(out, /OK/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decodes handshake certificates strictly, as Go's RawStdEncoding", async () => {
    const identity = await generateTlsIdentity();
    for (const bad of [
      `${identity.certRawBase64}==`,
      // URL-safe alphabet (a certificate's base64 need not hold a "+" to swap, so put one in)
      `-${identity.certRawBase64.slice(1)}`,
      "A".repeat(61),
    ]) {
      assert.throws(
        () => certPemFromHandshake(bad),
        (e: unknown) => e instanceof PluginError && e.code === "TLS_FAILED",
      );
    }
  });
});
