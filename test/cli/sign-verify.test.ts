// plugwire sign and plugwire verify through the real CLI, cross-checked with OpenSSH's ssh-keygen.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/fixture.ts";
import { sshKeygenVerify } from "../support/ssh-keygen.ts";

const cli = join(repoRoot, "bin/plugwire.js");
let dir: string;
const path = (name: string) => join(dir, name);
const plugwire = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8", timeout: 30_000 });
const keygen = (...args: string[]) =>
  spawnSync("/usr/bin/ssh-keygen", args, { cwd: dir, encoding: "utf8" });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "plugwire-sign-"));
  for (const name of ["release", "other"])
    execFileSync("/usr/bin/ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `${name}@example.com`,
      "-f",
      path(name),
    ]);
  writeFileSync(
    path("allowed_signers"),
    `release@example.com ${readFileSync(path("release.pub"), "utf8")}`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("plugwire sign / verify", () => {
  it("sign writes FILE.sig that ssh-keygen -Y verify accepts; verify exits 0 naming the key", () => {
    writeFileSync(path("plugin_linux_amd64"), "binary");
    const signed = plugwire("sign", "--key", path("release"), path("plugin_linux_amd64"));
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(
      signed.stdout,
      /^signed .*plugin_linux_amd64 → .*plugin_linux_amd64\.sig \(SHA256:/,
    );
    const ssh = sshKeygenVerify(
      path("allowed_signers"),
      "release@example.com",
      path("plugin_linux_amd64"),
      path("plugin_linux_amd64.sig"),
    );
    assert.equal(ssh.status, 0, ssh.stderr);
    const verified = plugwire(
      "verify",
      "--trusted",
      path("release.pub"),
      path("plugin_linux_amd64"),
    );
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(
      verified.stdout,
      /^ok .*plugin_linux_amd64: signed by SHA256:\S+ \(release@example\.com\)/,
    );
  });

  it("verify accepts ssh-keygen's signature and refuses tampered (SIGNATURE_INVALID), untrusted (SIGNATURE_UNTRUSTED) and unsigned (SIGNATURE_MISSING) files with exit 1", () => {
    writeFileSync(path("good"), "good bytes");
    writeFileSync(path("tampered"), "original");
    writeFileSync(path("foreign"), "foreign");
    writeFileSync(path("unsigned"), "none");
    for (const [key, file] of [
      ["release", "good"],
      ["release", "tampered"],
      ["other", "foreign"],
    ])
      assert.equal(keygen("-Y", "sign", "-n", "plugwire", "-f", path(key!), path(file!)).status, 0);
    writeFileSync(path("tampered"), "original, changed");
    const result = plugwire(
      "verify",
      "--trusted",
      path("allowed_signers"),
      "--json",
      path("good"),
      path("tampered"),
      path("foreign"),
      path("unsigned"),
    );
    assert.equal(result.status, 1, result.stderr);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      results: { ok: boolean; code?: string }[];
    };
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.results.map((r) => r.code ?? "ok"),
      ["ok", "SIGNATURE_INVALID", "SIGNATURE_UNTRUSTED", "SIGNATURE_MISSING"],
    );
    const human = plugwire("verify", "--trusted", path("release.pub"), path("tampered"));
    assert.equal(human.status, 1);
    assert.match(
      human.stderr,
      /^FAIL .*tampered: \[SIGNATURE_INVALID\] .*tampered\.sig does not match/,
    );
  });

  it("sign --sums writes SHA256SUMS and its signature; verify --sums checks each file's line", () => {
    writeFileSync(path("p_1.0.0_linux_amd64"), "linux");
    writeFileSync(path("p_1.0.0_darwin_arm64"), "darwin");
    const signed = plugwire(
      "sign",
      "--key",
      path("release"),
      "--sums",
      path("SHA256SUMS"),
      path("p_1.0.0_linux_amd64"),
      path("p_1.0.0_darwin_arm64"),
    );
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(
      readFileSync(path("SHA256SUMS"), "utf8"),
      execFileSync("sha256sum", ["p_1.0.0_darwin_arm64", "p_1.0.0_linux_amd64"], {
        cwd: dir,
        encoding: "utf8",
      }),
    );
    const ssh = sshKeygenVerify(
      path("allowed_signers"),
      "release@example.com",
      path("SHA256SUMS"),
      path("SHA256SUMS.sig"),
    );
    assert.equal(ssh.status, 0, ssh.stderr);
    const ok = plugwire(
      "verify",
      "--trusted",
      path("release.pub"),
      "--sums",
      path("SHA256SUMS"),
      path("p_1.0.0_linux_amd64"),
      path("p_1.0.0_darwin_arm64"),
    );
    assert.equal(ok.status, 0, ok.stderr);
    writeFileSync(path("p_1.0.0_linux_amd64"), "linux, swapped");
    const bad = plugwire(
      "verify",
      "--trusted",
      path("release.pub"),
      "--sums",
      path("SHA256SUMS"),
      path("p_1.0.0_linux_amd64"),
    );
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /\[SIGNATURE_INVALID\] .*but the signed .*SHA256SUMS lists/);
  });

  it("usage errors: no --trusted exits 2; an unreadable trusted keys file exits 1 with CONFIG_INVALID", () => {
    assert.equal(plugwire("verify", path("good")).status, 2);
    const missing = plugwire("verify", "--trusted", path("nope.pub"), path("good"));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\[CONFIG_INVALID\] cannot read trusted keys .*nope\.pub/);
  });
});
