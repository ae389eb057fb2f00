// Release archives over HTTPS from a loopback server with a test CA: the fixture Go plugin built
// into `plugin_<version>_<os>_<arch>.zip` files with SHA256SUMS signed by the real ssh-keygen.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { PluginError } from "../../src/index.ts";
import type { LockEntry } from "../../src/lock/lock-file.ts";
import {
  availableVersions,
  fetchSource,
  parseSource,
  resolveSource,
} from "../../src/sources/resolve.ts";
import type { TrustPolicy } from "../../src/trust/trust-policy.ts";
import { readTrustedKeys } from "../../src/trust/trusted-keys.ts";
import type { ArchiveServer } from "../support/registries/archive-server.ts";
import { startArchiveServer, writeRelease } from "../support/registries/archive-server.ts";
import { sshKeygen } from "../support/ssh-keygen.ts";
import { driverOf, leftovers, project } from "./support.ts";

const fixture = new URL("../fixtures/published/users-go", import.meta.url).pathname;
const linux = { os: "linux", arch: "amd64" };
let server: ArchiveServer;
let work: string;
let trusted: TrustPolicy;
let template: string;

/** The fixture Go plugin built for a release, its version stamped in. */
function buildPlugin(version: string): Buffer {
  const out = join(work, `plugin-${version}`);
  execFileSync(
    "go",
    ["build", "-trimpath", "-ldflags", `-X main.version=${version}`, "-o", out, "."],
    { cwd: fixture, env: { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" } },
  );
  return readFileSync(out);
}

function sign(key: string, file: string): void {
  rmSync(`${file}.sig`, { force: true });
  execFileSync(sshKeygen, ["-q", "-Y", "sign", "-n", "plugwire", "-f", key, file]);
}

function release(version: string, binary: Buffer, key?: string): string {
  const [zip] = writeRelease(server, `releases/v${version}`, {
    [`plugin_${version}_linux_amd64.zip`]: { plugin: binary, "README.md": "# users\n" },
    [`plugin_${version}_darwin_arm64.zip`]: { plugin: "not this platform" },
  });
  if (key !== undefined) sign(key, join(server.root, `releases/v${version}/SHA256SUMS`));
  return zip!;
}

describe("archive sources over HTTPS", { timeout: 300_000 }, () => {
  before(async () => {
    server = await startArchiveServer();
    work = mkdtempSync(join(tmpdir(), "pw-archive-test-"));
    for (const name of ["publisher", "stranger"])
      execFileSync(sshKeygen, [
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        name,
        "-f",
        join(work, name),
      ]);
    trusted = {
      signatures: "required",
      keys: await readTrustedKeys(join(work, "publisher.pub")),
    };
    const binary = buildPlugin("1.4.2");
    release("1.4.2", binary, join(work, "publisher"));
    release("1.5.0", buildPlugin("1.5.0"), join(work, "publisher"));
    release("1.6.0", binary); // unsigned
    release("1.7.0", binary, join(work, "stranger"));
    writeFileSync(
      join(server.root, "releases/index.json"),
      JSON.stringify({ versions: ["1.4.2", "1.5.0", "1.6.0", "1.7.0", "2.0.0"] }),
    );
    template = `${server.url}/releases/v{version}/plugin_{version}_{os}_{arch}.zip`;
  });
  after(async () => {
    await server?.[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  const options = (cacheDir: string) => ({
    cacheDir,
    caFile: server.caFile,
    platform: linux,
    plugin: "users",
  });

  it("resolves a range through the release index, verifies the signed SHA256SUMS and unpacks", async () => {
    using p = project();
    const spec = parseSource(`${template}@^1.4 <1.6`);
    assert.equal(spec.kind, "archive");
    const resolved = await resolveSource(spec, options(p.cacheDir));
    assert.equal(resolved.version, "1.5.0");
    assert.equal(resolved.url, `${server.url}/releases/v1.5.0/plugin_1.5.0_linux_amd64.zip`);
    assert.match(resolved.integrity ?? "", /^sha256:[0-9a-f]{64}$/);
    const fetched = await fetchSource(resolved, { ...options(p.cacheDir), trust: trusted });
    assert.equal(fetched.integrity, resolved.integrity);
    assert.equal(fetched.kind, "executable");
    assert.equal(fetched.signedBy, trusted.keys[0]!.fingerprint);
    assert.equal(await driverOf(fetched), "users-go 1.5.0");
    assert.deepEqual(leftovers(p.cacheDir), []);
  });

  it("takes a URL naming one release, or an exact version, without the index", async () => {
    using p = project();
    const before = server.requests.length;
    const one = parseSource(`${server.url}/releases/v1.4.2/plugin_1.4.2_linux_amd64.zip`);
    const resolved = await resolveSource(one, options(p.cacheDir));
    assert.equal(resolved.version, "1.4.2");
    const exact = await resolveSource(parseSource(template), {
      ...options(p.cacheDir),
      constraint: "1.4.2",
    });
    assert.equal(exact.integrity, resolved.integrity);
    assert.ok(!server.requests.slice(before).includes("/releases/index.json"));
    const versions = await availableVersions(parseSource(template), options(p.cacheDir));
    assert.deepEqual(versions, ["2.0.0", "1.7.0", "1.6.0", "1.5.0", "1.4.2"]);
  });

  it("refuses an unsigned release under required, and one signed by another key", async () => {
    using p = project();
    for (const [version, code] of [
      ["1.6.0", "SIGNATURE_MISSING"],
      ["1.7.0", "SIGNATURE_UNTRUSTED"],
    ] as const) {
      const resolved = await resolveSource(parseSource(template), {
        ...options(p.cacheDir),
        constraint: version,
      });
      await assert.rejects(
        fetchSource(resolved, { ...options(p.cacheDir), trust: trusted }),
        (error: PluginError) => error.code === code && error.plugin === "users",
      );
    }
    assert.deepEqual(leftovers(p.cacheDir), []);
  });

  it("refuses a truncated archive, leaving nothing in the cache", async () => {
    using p = project();
    const zip = release("1.8.0", Buffer.from("#!/bin/sh\nexit 1\n"));
    const resolved = await resolveSource(parseSource(template), {
      ...options(p.cacheDir),
      constraint: "1.8.0",
    });
    truncateSync(zip, 40);
    await assert.rejects(
      fetchSource(resolved, options(p.cacheDir)),
      (error: PluginError) =>
        error.code === "INTEGRITY_MISMATCH" && /truncated or altered/.test(error.message),
    );
    assert.deepEqual(leftovers(p.cacheDir), []);
  });

  it("refuses a platform the SHA256SUMS does not list, and a hash other than the lock's", async () => {
    using p = project();
    await assert.rejects(
      resolveSource(parseSource(`${template}@1.4.2`), {
        ...options(p.cacheDir),
        platform: { os: "plan9", arch: "amd64" },
      }),
      (error: PluginError) =>
        error.code === "INTEGRITY_MISMATCH" &&
        /does not list plugin_1\.4\.2_plan9/.test(error.message),
    );
    const locked: LockEntry = {
      name: "users",
      source: template,
      version: "1.4.2",
      integrity: `sha256:${"0".repeat(64)}`,
      sha256: "0".repeat(64),
    };
    await assert.rejects(
      resolveSource(parseSource(template), { ...options(p.cacheDir), locked }),
      (error: PluginError) => error.code === "LOCK_MISMATCH",
    );
  });

  it("reports a server that is down, or a CA it was not told of, as SOURCE_UNAVAILABLE", async () => {
    using p = project();
    const spec = parseSource(`${template}@1.4.2`);
    await assert.rejects(
      resolveSource(spec, { ...options(p.cacheDir), caFile: undefined }),
      (error: PluginError) =>
        error.code === "SOURCE_UNAVAILABLE" && /NODE_EXTRA_CA_CERTS/.test(error.message),
    );
    await using down = await startArchiveServer();
    await down.stop();
    await assert.rejects(
      resolveSource(parseSource(`${down.url}/plugin_1.0.0_linux_amd64.zip`), {
        ...options(p.cacheDir),
        caFile: down.caFile,
      }),
      (error: PluginError) =>
        error.code === "SOURCE_UNAVAILABLE" && /ECONNREFUSED/.test(error.message),
    );
  });

  it("refuses archives over plain HTTP", () => {
    assert.throws(
      () => parseSource("http://example.com/plugin_1.0.0_linux_amd64.zip"),
      (error: PluginError) => error.code === "CONFIG_INVALID" && /HTTPS/.test(error.message),
    );
  });
});
