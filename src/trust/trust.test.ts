// Signatures made by the real OpenSSH ssh-keygen verify in plugwire, and plugwire's verify in
// ssh-keygen; every refusal asserts its code.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sshKeygen, sshKeygenVerify } from "../../test/support/ssh-keygen.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { parsePrivateKey } from "./ssh-keys.ts";
import { parseSignature, signMessage } from "./sshsig.ts";
import { parseTrustSettings, trustPolicy } from "./trust-config.ts";
import type { TrustPolicy } from "./trust-policy.ts";
import { verifyArtifact } from "./trust-policy.ts";
import { parseTrustedKeys } from "./trusted-keys.ts";

let dir: string;
const path = (name: string) => join(dir, name);
const keygen = (...args: string[]) =>
  execFileSync(sshKeygen, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
/** `ssh-keygen -Y sign -n <namespace> -f <key> <file>` → `<file>.sig`. */
const sshSign = (key: string, file: string, ...extra: string[]) =>
  keygen("-Y", "sign", "-n", "plugwire", ...extra, "-f", path(key), path(file));
const policyOf = (signatures: TrustPolicy["signatures"], ...pubs: string[]): TrustPolicy => ({
  signatures,
  keys: pubs.flatMap((p) => parseTrustedKeys(readFileSync(path(p), "utf8"), path(p))),
});
const refuses = async (promise: Promise<unknown>, code: string, pattern?: RegExp) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PluginError, String(error));
    assert.equal(error.code, code, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "plugwire-trust-"));
  keygen("-q", "-t", "ed25519", "-N", "", "-C", "release@example.com", "-f", path("release"));
  keygen("-q", "-t", "ed25519", "-N", "", "-C", "mallory@example.com", "-f", path("mallory"));
  writeFileSync(path("artifact"), "#!/bin/sh\necho plugin\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("SSHSIG signatures", () => {
  it("a signature made by ssh-keygen -Y sign (sha512) verifies, with ssh-keygen's fingerprint", async () => {
    sshSign("release", "artifact");
    const result = await verifyArtifact(path("artifact"), {
      policy: policyOf("required", "release.pub"),
    });
    assert.equal(result.status, "signed");
    const printed = keygen("-l", "-f", path("release.pub")).split(" ")[1];
    assert.equal(result.signer?.fingerprint, printed);
    assert.equal(result.signer?.comment, "release@example.com");
    assert.equal(
      result.sha256,
      execFileSync("sha256sum", [path("artifact")])
        .toString()
        .split(" ")[0],
    );
  });

  it("a sha256 signature (ssh-keygen -O hashalg=sha256) verifies", async () => {
    writeFileSync(path("small"), "other bytes");
    sshSign("release", "small", "-O", "hashalg=sha256");
    assert.equal(
      parseSignature(readFileSync(path("small.sig"), "utf8"), "x").hashAlgorithm,
      "sha256",
    );
    const result = await verifyArtifact(path("small"), {
      policy: policyOf("required", "release.pub"),
    });
    assert.equal(result.status, "signed");
  });

  it("plugwire's signature is the one ssh-keygen makes, and ssh-keygen -Y verify accepts it", () => {
    writeFileSync(path("mine"), "signed by plugwire\n");
    const key = parsePrivateKey(readFileSync(path("release"), "utf8"), path("release"));
    const ours = signMessage(key, readFileSync(path("mine")));
    sshSign("release", "mine");
    assert.equal(ours, readFileSync(path("mine.sig"), "utf8")); // ed25519 is deterministic
    writeFileSync(path("mine.sig"), ours);
    writeFileSync(
      path("allowed_signers"),
      `release@example.com namespaces="plugwire" ${readFileSync(path("release.pub"), "utf8")}`,
    );
    const check = sshKeygenVerify(
      path("allowed_signers"),
      "release@example.com",
      path("mine"),
      path("mine.sig"),
    );
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /Good "plugwire" signature for release@example.com/);
  });

  it("a file changed after signing is SIGNATURE_INVALID", async () => {
    writeFileSync(path("tampered"), "original");
    sshSign("release", "tampered");
    writeFileSync(path("tampered"), "original, then changed");
    await refuses(
      verifyArtifact(path("tampered"), {
        policy: policyOf("required", "release.pub"),
        plugin: "p",
      }),
      "SIGNATURE_INVALID",
      /plugin p: .*tampered\.sig does not match .*tampered: the file changed after it was signed/,
    );
  });

  it("a valid signature by a key that is not trusted is SIGNATURE_UNTRUSTED, naming its fingerprint", async () => {
    writeFileSync(path("by-mallory"), "payload");
    sshSign("mallory", "by-mallory");
    const fingerprint = keygen("-l", "-f", path("mallory.pub")).split(" ")[1]!;
    await refuses(
      verifyArtifact(path("by-mallory"), { policy: policyOf("required", "release.pub") }),
      "SIGNATURE_UNTRUSTED",
      new RegExp(`signed by ${fingerprint.replace(/[+/]/g, "\\$&")}, which is not a trusted key`),
    );
    // if-present verifies a signature when there is one: still refused
    await refuses(
      verifyArtifact(path("by-mallory"), { policy: policyOf("if-present", "release.pub") }),
      "SIGNATURE_UNTRUSTED",
    );
  });

  it("a signature for another namespace is SIGNATURE_INVALID", async () => {
    writeFileSync(path("ns"), "payload");
    keygen("-Y", "sign", "-n", "file", "-f", path("release"), path("ns"));
    await refuses(
      verifyArtifact(path("ns"), { policy: policyOf("required", "release.pub") }),
      "SIGNATURE_INVALID",
      /namespace "file", not "plugwire"/,
    );
  });

  it("a truncated or garbled signature is SIGNATURE_INVALID", async () => {
    writeFileSync(path("garbled"), "payload");
    sshSign("release", "garbled");
    const text = readFileSync(path("garbled.sig"), "utf8").split("\n");
    writeFileSync(path("garbled.sig"), [text[0], text[1], text.at(-2), ""].join("\n"));
    await refuses(
      verifyArtifact(path("garbled"), { policy: policyOf("required", "release.pub") }),
      "SIGNATURE_INVALID",
      /truncated or corrupt/,
    );
  });

  it("unsigned: SIGNATURE_MISSING under required, accepted under if-present, not looked at when off", async () => {
    writeFileSync(path("unsigned"), "payload");
    await refuses(
      verifyArtifact(path("unsigned"), { policy: policyOf("required", "release.pub") }),
      "SIGNATURE_MISSING",
      /unsigned\.sig, and the trust policy requires signatures/,
    );
    const present = await verifyArtifact(path("unsigned"), { policy: policyOf("if-present") });
    assert.equal(present.status, "unsigned");
    writeFileSync(path("unsigned.sig"), "junk");
    const off = await verifyArtifact(path("unsigned"), { policy: policyOf("off") });
    assert.equal(off.status, "unchecked");
  });
});

describe("signed SHA256SUMS", () => {
  it("verifies the sums file's signature, then the artifact's line; a changed artifact, an unlisted one and a changed sums file are refused", async () => {
    writeFileSync(path("plugin_1.4.2_linux_amd64"), "binary bytes");
    writeFileSync(path("plugin_1.4.2_darwin_arm64"), "other binary");
    const sums = execFileSync(
      "sha256sum",
      ["plugin_1.4.2_linux_amd64", "plugin_1.4.2_darwin_arm64"],
      { cwd: dir },
    );
    writeFileSync(path("SHA256SUMS"), sums);
    sshSign("release", "SHA256SUMS");
    const policy = policyOf("required", "release.pub");
    const ok = await verifyArtifact(path("plugin_1.4.2_linux_amd64"), {
      policy,
      sums: path("SHA256SUMS"),
    });
    assert.equal(ok.status, "signed");
    assert.equal(ok.signatureFile, path("SHA256SUMS.sig"));

    writeFileSync(path("plugin_1.4.2_linux_amd64"), "binary bytes, swapped");
    await refuses(
      verifyArtifact(path("plugin_1.4.2_linux_amd64"), { policy, sums: path("SHA256SUMS") }),
      "SIGNATURE_INVALID",
      /but the signed .*SHA256SUMS lists/,
    );
    writeFileSync(path("unlisted"), "x");
    await refuses(
      verifyArtifact(path("unlisted"), { policy, sums: path("SHA256SUMS") }),
      "SIGNATURE_MISSING",
      /does not list unlisted/,
    );
    writeFileSync(path("SHA256SUMS"), `${sums}${"0".repeat(64)}  extra\n`);
    await refuses(
      verifyArtifact(path("plugin_1.4.2_darwin_arm64"), { policy, sums: path("SHA256SUMS") }),
      "SIGNATURE_INVALID",
      /SHA256SUMS\.sig does not match/,
    );
  });
});

describe("trusted keys and trust config", () => {
  it("reads .pub lines and allowed_signers lines; a key limited to another namespace is not trusted", async () => {
    const pub = readFileSync(path("release.pub"), "utf8").trim();
    const keys = parseTrustedKeys(
      `# release key\n${pub}\n\nci,release namespaces="plugwire,file" ${pub}\n`,
      "keys",
    );
    assert.equal(keys.length, 2);
    assert.equal(keys[0]!.source, "keys:2");
    assert.deepEqual(keys[1]!.namespaces, ["plugwire", "file"]);
    writeFileSync(path("git-only.sig-test"), "payload");
    sshSign("release", "git-only.sig-test");
    await refuses(
      verifyArtifact(path("git-only.sig-test"), {
        policy: {
          signatures: "required",
          keys: parseTrustedKeys(`git namespaces="git" ${pub}`, "k"),
        },
      }),
      "SIGNATURE_UNTRUSTED",
    );
  });

  it("refuses options it cannot honour and keys that are not ed25519 (CONFIG_INVALID)", () => {
    const pub = readFileSync(path("release.pub"), "utf8").trim();
    assert.throws(() => parseTrustedKeys(`x valid-before="20300101" ${pub}`, "k"), {
      code: "CONFIG_INVALID",
      message: /k:1: option valid-before/,
    });
    assert.throws(() => parseTrustedKeys("ssh-rsa AAAAB3NzaC1yc2E= rsa", "k"), {
      code: "CONFIG_INVALID",
      message: /ssh-rsa keys are not supported/,
    });
  });

  it("an encrypted private key is refused by plugwire sign's key reader with what to do", () => {
    keygen("-q", "-t", "ed25519", "-N", "secret", "-f", path("encrypted"));
    assert.throws(() => parsePrivateKey(readFileSync(path("encrypted"), "utf8"), "encrypted"), {
      code: "CONFIG_INVALID",
      message: /encrypted .*ssh-keygen -Y sign -n plugwire/,
    });
  });

  it("a service's trust table replaces the global keys; signatures falls back to the global policy", async () => {
    const fail = (p: string[], m: string): never => {
      throw new PluginError("CONFIG_INVALID", `${p.join(".")}: ${m}`);
    };
    const global = parseTrustSettings(
      { signatures: "required", trusted_keys: ["release.pub"] },
      ["trust"],
      dir,
      fail,
    );
    const service = parseTrustSettings(
      { keys: [readFileSync(path("mallory.pub"), "utf8")] },
      ["services", "x", "trust"],
      dir,
      fail,
    );
    const g = await trustPolicy(global);
    const s = await trustPolicy(global, service);
    assert.deepEqual(
      [g.signatures, g.keys.map((k) => k.comment)],
      ["required", ["release@example.com"]],
    );
    assert.deepEqual(
      [s.signatures, s.keys.map((k) => k.comment)],
      ["required", ["mallory@example.com"]],
    );
    assert.equal((await trustPolicy(undefined)).signatures, "if-present");
    assert.throws(
      () => parseTrustSettings({ signatures: "sometimes" }, ["trust"], dir, fail),
      /trust\.signatures: expected "required"/,
    );
    assert.throws(
      () => parseTrustSettings({ keyz: [] }, ["trust"], dir, fail),
      /trust\.keyz: unknown key/,
    );
  });
});

describe("plugwire.toml keys", () => {
  it("reads [trust], [services.<name>.trust] and version; a bad value names the file, line and key", async () => {
    const { parseConfig } = await import("../config/config.ts");
    const config = parseConfig(
      [
        "[trust]",
        'signatures = "required"',
        'trusted_keys = ["keys/release.pub"]',
        "[services.reports]",
        'driver = "https://example.com/reports.git"',
        'version = "^2.1"',
        "[services.reports.trust]",
        'signatures = "if-present"',
      ].join("\n"),
      "/etc/app/plugwire.toml",
    );
    assert.deepEqual(config.trust, {
      signatures: "required",
      keyFiles: ["/etc/app/keys/release.pub"],
      keys: undefined,
    });
    assert.equal(config.services.reports?.version, "^2.1");
    assert.equal(config.services.reports?.trust?.signatures, "if-present");
    assert.throws(
      () => parseConfig('[services.r]\ndriver = "./r"\nversion = "two"\n', "/c/plugwire.toml"),
      {
        code: "CONFIG_INVALID",
        message: /\/c\/plugwire\.toml:3: key `services\.r\.version`: "two" is not a semver range/,
      },
    );
    assert.throws(() => parseConfig('[trust]\nsignatures = "always"\n', "/c/plugwire.toml"), {
      code: "CONFIG_INVALID",
      message:
        /plugwire\.toml:2: key `trust\.signatures`: expected "required", "if-present" or "off"/,
    });
  });
});
