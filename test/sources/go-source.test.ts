// Go module sources against a module proxy on loopback: the fixture plugin module published into
// it, resolved with `go list -m -versions`, verified by go (`go mod download`, go.sum) and built
// with `go install -trimpath`.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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
import type { GoProxy } from "../support/registries/go-proxy.ts";
import { publishUsersGo, startGoProxy, usersGoModule } from "../support/registries/go-proxy.ts";
import { driverOf, leftovers, project } from "./support.ts";

// The first build of go-plugin and grpc on a cold build cache takes minutes on a busy machine.
const slow = { timeout: 600_000 };
let proxy: GoProxy;
let modcache: string;
/**
 * The public checksum database is out of reach here, so go cannot check the fixture's public
 * dependencies against it (GOSUMDB=off); the fixture module itself is private (GONOSUMDB), and go
 * still checks everything against go.sum and the lock's hash.
 */
const env = () => ({ ...proxy.env(modcache), GOSUMDB: "off" });

describe("Go module sources", slow, () => {
  before(async () => {
    proxy = await startGoProxy();
    modcache = mkdtempSync(join(tmpdir(), "pw-gomodcache-"));
    for (const version of ["v1.0.0", "v1.4.2", "v1.5.0-rc.1"]) publishUsersGo(proxy, version);
  });
  after(async () => {
    await proxy?.[Symbol.asyncDispose]();
    rmSync(modcache, { recursive: true, force: true });
  });

  it("resolves a range to the highest release, go installs it and it serves", slow, async () => {
    using p = project();
    const spec = parseSource(`go:${usersGoModule}@^1.4`);
    assert.deepEqual(spec, {
      kind: "go",
      raw: `go:${usersGoModule}@^1.4`,
      module: usersGoModule,
      constraint: "^1.4",
    });
    const options = { cacheDir: p.cacheDir, env: env() };
    const resolved = await resolveSource(spec, options);
    assert.equal(resolved.version, "1.4.2");
    assert.match(resolved.integrity ?? "", /^h1:[A-Za-z0-9+/]{43}=$/);
    const fetched = await fetchSource(resolved, options);
    assert.equal(fetched.integrity, resolved.integrity);
    assert.equal(fetched.kind, "folder");
    assert.ok(existsSync(join(fetched.path, "plugwire.json")));
    assert.equal(await driverOf(fetched), "users-go 1.4.2");
    assert.deepEqual(leftovers(p.cacheDir), []);
    // The same hash is installed once.
    const again = await fetchSource(resolved, options);
    assert.equal(again.executable, fetched.executable);
  });

  it("lists the proxy's versions, and takes an exact version with a v", async () => {
    using p = project();
    const options = { cacheDir: p.cacheDir, env: env() };
    const versions = await availableVersions(parseSource(`go:${usersGoModule}`), options);
    assert.deepEqual(versions, ["1.5.0-rc.1", "1.4.2", "1.0.0"]);
    const exact = await resolveSource(parseSource(`go:${usersGoModule}@v1.0.0`), options);
    assert.equal(exact.version, "1.0.0");
  });

  it("refuses a version whose bytes changed since the lock, with go's own check", async () => {
    using p = project();
    const options = { cacheDir: p.cacheDir, env: env(), plugin: "users" };
    const spec = parseSource(`go:${usersGoModule}@1.0.0`);
    const first = await resolveSource(spec, options);
    const locked: LockEntry = {
      name: "users",
      source: spec.raw,
      version: "1.0.0",
      integrity: first.integrity!.replace(/.=$/, (c) => (c[0] === "A" ? "B=" : "A=")),
      sha256: "0".repeat(64),
    };
    await assert.rejects(
      resolveSource(spec, { ...options, locked }),
      (error: PluginError) =>
        error.code === "INTEGRITY_MISMATCH" &&
        error.plugin === "users" &&
        /SECURITY ERROR|checksum mismatch/.test(error.message),
    );
  });

  it("reports nothing satisfying, and an unknown module, as VERSION_UNSATISFIED", async () => {
    using p = project();
    const options = { cacheDir: p.cacheDir, env: env() };
    await assert.rejects(
      resolveSource(parseSource(`go:${usersGoModule}@^2`), options),
      (error: PluginError) => error.code === "VERSION_UNSATISFIED" && /1\.4\.2/.test(error.message),
    );
    await assert.rejects(
      resolveSource(parseSource(`go:${usersGoModule}-nope@^1`), options),
      (error: PluginError) => error.code === "VERSION_UNSATISFIED" && /GOPROXY/.test(error.message),
    );
  });

  it("reports a proxy that is down as SOURCE_UNAVAILABLE", async () => {
    using p = project();
    await using down = await startGoProxy();
    await down.stop();
    await assert.rejects(
      resolveSource(parseSource(`go:${usersGoModule}@^1`), {
        cacheDir: p.cacheDir,
        env: { ...down.env(modcache), GOSUMDB: "off" },
        plugin: "users",
      }),
      (error: PluginError) =>
        error.code === "SOURCE_UNAVAILABLE" &&
        error.plugin === "users" &&
        /GOPROXY/.test(error.message),
    );
  });
});
