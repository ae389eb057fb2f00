// npm sources against a real registry on loopback (verdaccio): packages published with the real
// `npm publish`, resolved with `npm view`, fetched with `npm pack`, verified and built.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PluginError } from "../../src/index.ts";
import type { LockEntry } from "../../src/lock/lock-file.ts";
import {
  availableVersions,
  fetchSource,
  parseSource,
  resolveSource,
} from "../../src/sources/resolve.ts";
import type { NpmRegistry } from "../support/registries/npm-registry.ts";
import {
  mirrorProtobuf,
  publishUsersTs,
  startNpmRegistry,
} from "../support/registries/npm-registry.ts";
import { driverOf, leftovers, project } from "./support.ts";

const name = "@plugwire-fixtures/users-ts";
let registry: NpmRegistry;

/** A project whose .npmrc points npm at the loopback registry (the user's own settings). */
function npmProject() {
  const p = project();
  writeFileSync(join(p.dir, ".npmrc"), registry.npmrc);
  return { ...p, options: { cacheDir: p.cacheDir, projectDir: p.dir, env: registry.env } };
}

// Each fetch runs npm ci and esbuild; on a busy machine that takes a while.
describe("npm sources", { timeout: 300_000 }, () => {
  before(async () => {
    registry = await startNpmRegistry();
    await mirrorProtobuf(registry);
    for (const version of ["1.0.0", "1.2.0", "1.3.0-rc.1", "2.0.0"])
      await publishUsersTs(registry, version);
  });
  after(() => registry?.[Symbol.asyncDispose]());

  it("resolves a range to the highest release, fetches, verifies and builds it", async () => {
    using p = npmProject();
    const spec = parseSource(`npm:${name}@^1.0`);
    assert.deepEqual(spec, { kind: "npm", raw: `npm:${name}@^1.0`, name, constraint: "^1.0" });
    const resolved = await resolveSource(spec, p.options);
    assert.equal(resolved.version, "1.2.0");
    assert.match(resolved.integrity ?? "", /^sha512-/);
    const progress: string[] = [];
    const fetched = await fetchSource(resolved, {
      ...p.options,
      onProgress: (line) => progress.push(line),
    });
    assert.equal(fetched.integrity, resolved.integrity);
    assert.equal(fetched.kind, "folder");
    assert.ok(existsSync(join(fetched.path, "plugwire.json")));
    assert.ok(fetched.path.startsWith(p.cacheDir));
    assert.ok(
      progress.some((line) => line.includes("npm ci")),
      progress.join("\n"),
    );
    assert.equal(await driverOf(fetched), "users-ts 1.2.0");
    assert.deepEqual(leftovers(p.cacheDir), []);
  });

  it("lists the versions the registry has, highest first", async () => {
    using p = npmProject();
    const versions = await availableVersions(parseSource(`npm:${name}`), p.options);
    assert.deepEqual(
      versions.filter((v) => !["3.0.0", "4.0.0"].includes(v)),
      ["2.0.0", "1.3.0-rc.1", "1.2.0", "1.0.0"],
    );
  });

  it("takes a constraint given beside the source, and the locked version over a newer one", async () => {
    using p = npmProject();
    const spec = parseSource(`npm:${name}`);
    const latest = await resolveSource(spec, { ...p.options, constraint: "^1" });
    assert.equal(latest.version, "1.2.0");
    const old = await resolveSource(spec, { ...p.options, constraint: "1.0.0" });
    const locked = lockEntry({ version: "1.0.0", integrity: old.integrity, constraint: "^1" });
    const again = await resolveSource(spec, { ...p.options, constraint: "^1", locked });
    assert.equal(again.version, "1.0.0");
    assert.equal(again.integrity, old.integrity);
  });

  it("refuses a registry that now answers another integrity than the lock", async () => {
    using p = npmProject();
    const locked = lockEntry({ version: "1.2.0", integrity: `sha512-${"A".repeat(86)}==` });
    await assert.rejects(
      resolveSource(parseSource(`npm:${name}@^1`), { ...p.options, locked, plugin: "users" }),
      (error: PluginError) =>
        error.code === "LOCK_MISMATCH" && /different bytes/.test(error.message),
    );
  });

  it("refuses a tarball that does not match the registry's dist.integrity, leaving nothing", async () => {
    using p = npmProject();
    await publishUsersTs(registry, "3.0.0");
    const resolved = await resolveSource(parseSource(`npm:${name}@3.0.0`), p.options);
    const tarball = registry.tarball(name, "3.0.0");
    const bytes = readFileSync(tarball);
    bytes[bytes.length - 9] = (bytes[bytes.length - 9] ?? 0) ^ 0xff;
    writeFileSync(tarball, bytes);
    await assert.rejects(
      fetchSource(resolved, { ...p.options, plugin: "users" }),
      (error: PluginError) =>
        error.code === "INTEGRITY_MISMATCH" &&
        error.plugin === "users" &&
        error.message.includes(name),
    );
    assert.deepEqual(leftovers(p.cacheDir), []);
    assert.ok(!existsSync(join(p.cacheDir, "builds")));
  });

  it("runs the dependencies' install scripts only when allowed", async () => {
    using p = npmProject();
    const marker = join(p.dir, "postinstall-ran");
    const dep = join(p.dir, "dep");
    mkdirSync(dep);
    writeFileSync(
      join(dep, "package.json"),
      JSON.stringify({
        name: "@plugwire-fixtures/postinstall-marker",
        version: "1.0.0",
        scripts: {
          postinstall: `node -e "require('fs').writeFileSync(process.env.MARKER_FILE, 'ran')"`,
        },
      }),
    );
    await registry.publish(dep);
    await publishUsersTs(registry, "4.0.0", { "@plugwire-fixtures/postinstall-marker": "1.0.0" });
    const options = { ...p.options, env: { ...registry.env, MARKER_FILE: marker } };
    const resolved = await resolveSource(parseSource(`npm:${name}@4.0.0`), options);
    const off = await fetchSource(resolved, options);
    assert.equal(existsSync(marker), false);
    assert.equal(await driverOf(off), "users-ts 4.0.0");
    const on = await fetchSource(resolved, { ...options, allowScripts: true });
    assert.equal(readFileSync(marker, "utf8"), "ran");
    assert.notEqual(on.path, off.path);
  });

  it("reports a version or package the registry lacks as VERSION_UNSATISFIED", async () => {
    using p = npmProject();
    await assert.rejects(
      resolveSource(parseSource(`npm:${name}@^9`), { ...p.options, plugin: "users" }),
      (error: PluginError) =>
        error.code === "VERSION_UNSATISFIED" &&
        /2\.0\.0, 1\.3\.0-rc\.1, 1\.2\.0, 1\.0\.0/.test(error.message),
    );
    await assert.rejects(
      resolveSource(parseSource("npm:@plugwire-fixtures/nope@^1"), p.options),
      (error: PluginError) => error.code === "VERSION_UNSATISFIED" && /E404/.test(error.message),
    );
  });

  it("refuses nonsense as CONFIG_INVALID, naming it", () => {
    for (const raw of ["npm:", "npm:Not A Name", "npm:x@latest", "ftp:x"])
      assert.throws(
        () => parseSource(raw),
        (error: PluginError) => error.code === "CONFIG_INVALID" && error.message.includes(raw),
      );
  });
});

describe("npm sources, registry down", () => {
  it("is SOURCE_UNAVAILABLE, naming the plugin and what to check", async () => {
    await using down = await startNpmRegistry();
    await down.stop();
    using p = project();
    writeFileSync(join(p.dir, ".npmrc"), down.npmrc);
    await assert.rejects(
      resolveSource(parseSource(`npm:${name}@^1`), {
        cacheDir: p.cacheDir,
        projectDir: p.dir,
        env: down.env,
        plugin: "users",
      }),
      (error: PluginError) =>
        error instanceof PluginError &&
        error.code === "SOURCE_UNAVAILABLE" &&
        error.plugin === "users" &&
        /\.npmrc/.test(error.message),
    );
  });
});

function lockEntry(fields: Partial<LockEntry>): LockEntry {
  return { name: "users", source: `npm:${name}`, sha256: "0".repeat(64), ...fields };
}
