// Issue 13, end to end: a configuration whose plugins come from real sources on loopback (an npm
// registry, a Go module proxy, a git daemon, an HTTPS release server with a test CA), each pinned in plugwire.lock by `plugwire install`,
// reinstalled identically from a fresh copy with --frozen, run by the manager only as locked,
// and every fault refused with its code, naming the plugin, with nothing half-installed.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { UserProvider } from "../../examples/manager/users/gen/users_pb.js";
import { ServiceManager } from "../../src/config/service-manager.ts";
import type { PluginError } from "../../src/index.ts";
import type { ArchiveServer } from "../support/registries/archive-server.ts";
import { startArchiveServer, writeRelease } from "../support/registries/archive-server.ts";
import type { GoProxy } from "../support/registries/go-proxy.ts";
import { publishUsersGo, startGoProxy, usersGoModule } from "../support/registries/go-proxy.ts";
import type { NpmRegistry } from "../support/registries/npm-registry.ts";
import {
  mirrorProtobuf,
  publishUsersTs,
  startNpmRegistry,
} from "../support/registries/npm-registry.ts";
import { freePort } from "../support/registries/ports.ts";
import { sshKeygen } from "../support/ssh-keygen.ts";
import { waitFor } from "../support/wait.ts";
import { git, startGitDaemon } from "./git-daemon.ts";
import { repoRoot, tempDir } from "./support.ts";

const cli = join(repoRoot, "bin/plugwire.js");
const usersGo = join(repoRoot, "examples/manager/users/plugin-go");
const publishedGo = join(repoRoot, "test/fixtures/published/users-go");
const usersJson = join(repoRoot, "examples/manager/users/users.json");
const npmName = "@plugwire-fixtures/users-ts";

/** Runs the real CLI; resolves with its exit status and output. */
function plugwire(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd, env, encoding: "utf8", timeout: 300_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

/** The files a repository of the project would hold: no cache, nothing installed. */
function freshCopy(from: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from))
    if (name !== ".cache") cpSync(join(from, name), join(to, name), { recursive: true });
  return join(to, "plugwire.toml");
}

/** Every installed file with its SHA-256, the lock's bytes, and any staging folder left. */
function state(project: string) {
  const installed = join(project, ".cache/plugwire/installed");
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(installed, path)] = sha256(path);
    }
  };
  walk(installed);
  const lock = join(project, "plugwire.lock");
  return {
    files,
    lock: existsSync(lock) ? readFileSync(lock, "utf8") : undefined,
    leftovers: existsSync(installed)
      ? readdirSync(installed).filter((n) => n.startsWith(".") || n.includes(".old-"))
      : [],
  };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The configuration: one plugin per source kind, each with a constraint, two of them signed. */
function configText(gitUrl: string, extra = ""): string {
  return `[manager]
start_timeout_ms = 30000
[manager.handshake]
magic_cookie_key = "USERS_PLUGIN"
magic_cookie_value = "users"

[trust]
signatures = "if-present"
trusted_keys = ["keys/publisher.pub"]

[services.ts]
driver = "npm:${npmName}"
version = "^1.0"

[services.release]
driver = "${gitUrl}"
version = "^1"
[services.release.trust]
signatures = "required"
[services.release.drivers.users-release]
users = "${usersJson}"

[services.go]
driver = "go:${usersGoModule}"
version = "^1.4"

[services.archive]
driver = "${archives.url}/releases/v{version}/users_{version}_{os}_{arch}.zip"
version = "^1.4"
[services.archive.trust]
signatures = "required"
${extra}`;
}

let tmp: ReturnType<typeof tempDir>;
let registry: NpmRegistry;
let proxy: GoProxy;
let archives: ArchiveServer;
let daemon: Awaited<ReturnType<typeof startGitDaemon>>;
let project: string;
let env: NodeJS.ProcessEnv;
let releaseRepo: string;
let releaseBinary: string;

/** Signs `file` with OpenSSH's own tool, as a publisher does (`FILE.sig`, namespace plugwire). */
function sign(key: string, file: string): void {
  rmSync(`${file}.sig`, { force: true });
  execFileSync(sshKeygen, ["-q", "-Y", "sign", "-n", "plugwire", "-f", key, file]);
}

/** Publishes a release archive of the Go fixture at `version`, its SHA256SUMS signed by `key`. */
function archiveRelease(version: string, key?: string): string {
  const binary = join(tmp.dir, `users-${version}`);
  execFileSync(
    "go",
    ["build", "-trimpath", "-ldflags", `-X main.version=${version}`, "-o", binary, "."],
    { cwd: publishedGo, env: { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" } },
  );
  const platform = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;
  const [zip] = writeRelease(archives, `releases/v${version}`, {
    [`users_${version}_${platform}.zip`]: { plugin: readFileSync(binary) },
  });
  if (key !== undefined) sign(key, join(archives.root, `releases/v${version}/SHA256SUMS`));
  return zip!;
}

/** Commits the release repository's tree and tags it. */
function release(tag: string, message: string): string {
  git(releaseRepo, "add", "-A");
  git(releaseRepo, "commit", "--quiet", "--allow-empty", "-m", message);
  git(releaseRepo, "tag", "-f", tag);
  return git(releaseRepo, "rev-parse", "HEAD");
}

describe("plugins as published, pinned and verified artifacts (issue 13)", {
  timeout: 900_000,
}, () => {
  before(async () => {
    tmp = tempDir("pw-dist-");
    registry = await startNpmRegistry();
    await mirrorProtobuf(registry);
    for (const version of ["1.0.0", "1.2.0", "2.0.0"]) await publishUsersTs(registry, version);
    archives = await startArchiveServer();
    proxy = await startGoProxy();
    for (const version of ["v1.0.0", "v1.4.2", "v2.0.0"]) publishUsersGo(proxy, version);
    // npm's settings for the registry, go's for the proxy (a module cache of this test's own;
    // the public checksum database is out of reach, the fixture module is private to go).
    const go = proxy.env(join(tmp.dir, "gomodcache"));
    env = {
      ...registry.env,
      GOPROXY: go.GOPROXY,
      GONOSUMDB: go.GONOSUMDB,
      GOMODCACHE: go.GOMODCACHE,
      GOFLAGS: go.GOFLAGS,
      GOTOOLCHAIN: go.GOTOOLCHAIN,
      GOSUMDB: "off",
      // The release server's certificate comes from a test CA made for this run.
      NODE_EXTRA_CA_CERTS: archives.caFile,
    };

    const keys = join(tmp.dir, "keys");
    mkdirSync(keys);
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
        join(keys, name),
      ]);

    // A release repository: a prebuilt plugin package, its executable signed by the publisher.
    releaseRepo = join(tmp.dir, "git/users-release.git");
    mkdirSync(releaseRepo, { recursive: true });
    releaseBinary = join(releaseRepo, "users-go");
    execFileSync("go", ["build", "-trimpath", "-o", releaseBinary, "."], {
      cwd: usersGo,
      env: { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
    });
    writeFileSync(
      join(releaseRepo, "plugwire.json"),
      JSON.stringify({ id: "users-release", entry: "./users-go" }),
    );
    sign(join(keys, "publisher"), releaseBinary);
    git(releaseRepo, "init", "--quiet", "--initial-branch=main");
    release("v1.0.0", "1.0.0");
    writeFileSync(join(releaseRepo, "NOTES"), "1.1.0\n");
    release("v1.1.0", "1.1.0");
    writeFileSync(join(releaseRepo, "NOTES"), "2.0.0\n");
    release("v2.0.0", "2.0.0");
    daemon = await startGitDaemon(join(tmp.dir, "git"));
    for (const version of ["1.4.2", "1.5.0"]) archiveRelease(version, join(keys, "publisher"));
    archiveRelease("2.0.0", join(keys, "publisher"));
    writeFileSync(
      join(archives.root, "releases/index.json"),
      JSON.stringify({ versions: ["1.4.2", "1.5.0", "2.0.0"] }),
    );

    project = join(tmp.dir, "project");
    mkdirSync(join(project, "keys"), { recursive: true });
    cpSync(join(keys, "publisher.pub"), join(project, "keys/publisher.pub"));
    writeFileSync(join(project, ".npmrc"), registry.npmrc);
    writeFileSync(join(project, "plugwire.toml"), configText(daemon.url("users-release.git")));
  });
  after(async () => {
    daemon?.[Symbol.dispose]();
    await registry?.[Symbol.asyncDispose]();
    await proxy?.[Symbol.asyncDispose]();
    await archives?.[Symbol.asyncDispose]();
    tmp?.[Symbol.dispose]();
  });

  it("installs every service, writes the lock, and reinstalls it identically from a fresh copy with --frozen", async () => {
    const first = await plugwire(project, env, "install", "-c", "plugwire.toml");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\+ ts 1\.2\.0 \(npm:@plugwire-fixtures\/users-ts\)/);
    assert.match(
      first.stdout,
      /\+ release 1\.1\.0 \(git:\/\/127\.0\.0\.1:\d+\/users-release\.git\)/,
    );
    assert.match(first.stdout, /\+ go 1\.4\.2 \(go:example\.com\/plugwire-fixtures\/users-go\)/);
    assert.match(first.stdout, /\+ archive 1\.5\.0 \(https:\/\/127\.0\.0\.1:\d+\/releases\//);
    assert.match(first.stdout, /✔ archive 1\.5\.0 \(sha256 [0-9a-f]{12}, signed by SHA256:\S+\)/);
    assert.match(
      first.stdout,
      /✔ release 1\.1\.0 \(sha256 [0-9a-f]{12}, signed by SHA256:\S+\): starts and answers/,
    );
    // Parallel progress, one plain line per step with the plugin's name (not a terminal).
    assert.match(first.stderr, /^… ts: /m);
    assert.match(first.stderr, /^… release: /m);
    const lock = readFileSync(join(project, "plugwire.lock"), "utf8");
    assert.match(
      lock,
      /\[plugins\.ts\]\nsource = "npm:@plugwire-fixtures\/users-ts"\nconstraint = "\^1\.0"\nversion = "1\.2\.0"\nintegrity = "sha512-/,
    );
    assert.match(lock, /\[plugins\.release\][^[]*version = "1\.1\.0"\ncommit = "[0-9a-f]{40}"/);
    assert.match(lock, /\[plugins\.release\][^[]*signed_by = "SHA256:/);
    assert.match(
      lock,
      /\[plugins\.archive\][^[]*integrity = "sha256:[0-9a-f]{64}"[^[]*signed_by = "SHA256:/,
    );
    assert.match(lock, /artifact = "\.cache\/plugwire\/installed\/ts\/bundle\.mjs"/);
    assert.deepEqual(state(project).leftovers, []);

    const again = await plugwire(project, env, "install", "-c", "plugwire.toml");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /plugwire\.lock is up to date/);

    // A fresh clone elsewhere (another depth, an empty cache) reproduces every byte.
    const clone = freshCopy(project, join(tmp.dir, "elsewhere/deeper/clone"));
    const frozen = await plugwire(join(clone, ".."), env, "install", "-c", clone, "--frozen");
    assert.equal(frozen.code, 0, frozen.stderr);
    assert.match(frozen.stdout, /plugwire\.lock is up to date/);
    assert.equal(readFileSync(join(clone, "../plugwire.lock"), "utf8"), lock);
    // Every artifact there has the SHA-256 the lock records (doctor finds no drift).
    const doctor = await plugwire(join(clone, ".."), env, "doctor", "-c", clone);
    assert.equal(doctor.code, 0, doctor.stdout);
    assert.match(doctor.stdout, /4 plugin\(s\) ok, 0 problem\(s\)/);
  });

  it("runs each service through the manager only as locked, and refuses a file changed after install, at start and at restart", async () => {
    await using manager = await ServiceManager.load(join(project, "plugwire.toml"), {
      supervise: { healthIntervalMs: 0, restart: { initialDelayMs: 10, jitter: 0 } },
    });
    const drivers: Record<string, string> = {};
    for (const name of ["ts", "release", "go", "archive"]) {
      const users = manager.service(name, UserProvider);
      drivers[name] = (await users.findUsers({ query: "marie" })).driver;
      assert.equal((await users.getUser({ username: "marie" })).displayName, "Marie Curie");
    }
    assert.deepEqual(drivers, {
      ts: "users-ts 1.2.0",
      release: "json-go",
      go: "users-go 1.4.2",
      archive: "users-go 1.5.0",
    });

    // The release plugin's executable is changed in the cache while it runs; it crashes, and the
    // supervisor's restart is refused, naming the file.
    const release = manager.plugin("release");
    const installed = join(project, ".cache/plugwire/installed/release/users-go");
    const original = readFileSync(installed);
    const crashes: PluginError[] = [];
    release.on("crash", (error) => crashes.push(error));
    try {
      writeFileSync(`${installed}.new`, Buffer.concat([original, Buffer.from("tampered")]));
      execFileSync("mv", [`${installed}.new`, installed]);
      process.kill(release.connection!.info.pid!, "SIGKILL");
      const refused = await waitFor(
        () => crashes.find((e) => e.code === "CHECKSUM_MISMATCH"),
        30_000,
        "the restart to be refused",
        () => crashes.map((e) => e.message).join("\n"),
      );
      assert.equal(refused.plugin, "release");
      assert.ok(refused.message.includes(installed), refused.message);
      assert.match(refused.message, /plugwire\.lock records [0-9a-f]{64}.*Run plugwire install/);

      // The TypeScript bundle too: refused before it runs, at the next start.
      const bundle = join(project, ".cache/plugwire/installed/ts/bundle.mjs");
      const bundleBytes = readFileSync(bundle);
      writeFileSync(bundle, `${bundleBytes}\n// tampered\n`);
      const ts = manager.plugin("ts");
      await ts.stop();
      await assert.rejects(
        ts.client(UserProvider).findUsers({ query: "marie" }),
        (error: PluginError) =>
          error.code === "CHECKSUM_MISMATCH" &&
          error.plugin === "ts" &&
          error.message.includes(bundle),
      );
      const doctor = await plugwire(project, env, "doctor", "-c", "plugwire.toml");
      assert.equal(doctor.code, 1, doctor.stdout);
      assert.match(doctor.stdout, /✖ services\.release\n {4}drift: .*users-go has sha256/);
      assert.match(doctor.stdout, /✖ services\.ts\n {4}drift: /);
      assert.match(doctor.stdout, /✔ services\.go\n {4}ok: 1\.4\.2 installed as locked/);
      writeFileSync(bundle, bundleBytes);
    } finally {
      writeFileSync(installed, original, { mode: 0o755 });
      chmodSync(installed, 0o755);
    }
    // Restored as the lock records it, the plugin starts again (re-armed, had the refused
    // restarts tripped the crash-loop breaker meanwhile).
    release.enable();
    await release.stop();
    assert.equal(
      (await manager.service("release", UserProvider).findUsers({ query: "m" })).driver,
      "json-go",
    );

    // A service the lock does not vouch for (added after the install) does not start.
    const added = join(project, "added.toml");
    writeFileSync(
      added,
      configText(
        daemon.url("users-release.git"),
        `\n[services.extra]\ndriver = "npm:${npmName}"\nversion = "^2"\n`,
      ),
    );
    try {
      await using more = await ServiceManager.load(added, { supervise: { healthIntervalMs: 0 } });
      await assert.rejects(
        more.service("extra", UserProvider).findUsers({ query: "m" }),
        (error: PluginError) =>
          error.code === "NOT_INSTALLED" &&
          error.plugin === "extra" &&
          /plugwire\.lock has no entry for it.*Run plugwire install/.test(error.message),
      );
    } finally {
      rmSync(added);
    }
  });

  it("refuses each fault with its code, naming the plugin, and leaves nothing half-installed", async () => {
    const before = state(project);
    const gitUrl = daemon.url("users-release.git");
    /** A copy of the project (with its cache) to break one thing in; install must leave it as it was. */
    const broken = (name: string, change: (dir: string) => void) => {
      const dir = join(tmp.dir, "faults", name);
      cpSync(project, dir, { recursive: true });
      change(dir);
      return { dir, before: state(dir) };
    };
    const refuses = async (
      name: string,
      change: (dir: string) => void,
      code: string,
      plugin: string,
      pattern: RegExp,
      ...args: string[]
    ) => {
      const fault = broken(name, change);
      const result = await plugwire(fault.dir, env, "install", "-c", "plugwire.toml", ...args);
      assert.equal(result.code, 1, `${name}: ${result.stdout}${result.stderr}`);
      assert.ok(result.stderr.includes(`[${code}] plugin ${plugin}:`), `${name}: ${result.stderr}`);
      assert.match(result.stderr, pattern, name);
      assert.deepEqual(state(fault.dir), fault.before, `${name}: nothing changed`);
    };

    // Registry down: the project's .npmrc names a port nothing listens on, and the cache is cold.
    const deadPort = await freePort();
    await refuses(
      "registry-down",
      (dir) => {
        writeFileSync(join(dir, ".npmrc"), `registry=http://127.0.0.1:${deadPort}/\n`);
        rmSync(join(dir, "plugwire.lock"));
      },
      "SOURCE_UNAVAILABLE",
      "ts",
      /registry/,
    );

    // Wrong integrity: the registry serves a tarball that is not the one it published.
    await publishUsersTs(registry, "2.5.0");
    const tarball = registry.tarball(npmName, "2.5.0");
    const bytes = readFileSync(tarball);
    bytes[bytes.length - 9] = (bytes[bytes.length - 9] ?? 0) ^ 0xff;
    writeFileSync(tarball, bytes);
    await refuses(
      "wrong-integrity",
      (dir) =>
        writeFileSync(
          join(dir, "plugwire.toml"),
          configText(gitUrl).replace('version = "^1.0"', 'version = "2.5.0"'),
        ),
      "INTEGRITY_MISMATCH",
      "ts",
      /integrity/,
    );

    // Lock edited by hand: a SHA-256 the artifact does not have, then a lock that does not parse.
    await refuses(
      "lock-edited",
      (dir) => {
        const file = join(dir, "plugwire.lock");
        const text = readFileSync(file, "utf8");
        const ts = /\[plugins\.ts\][^[]*sha256 = "([0-9a-f]{64})"/.exec(text)![1]!;
        writeFileSync(file, text.replace(ts, "0".repeat(64)));
      },
      "LOCK_MISMATCH",
      "ts",
      /sha256 .* the lock records 0{64}/,
    );
    const garbled = broken("lock-garbled", (dir) =>
      writeFileSync(join(dir, "plugwire.lock"), "lock_version = 1\n[plugins.ts]\nsha256 = 12\n"),
    );
    const unreadable = await plugwire(garbled.dir, env, "install", "-c", "plugwire.toml");
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /\[CONFIG_INVALID\] .*plugwire\.lock: plugins\.ts\.sha256/);
    assert.deepEqual(state(garbled.dir), garbled.before);

    // A new service under --frozen: refused before anything is fetched.
    await refuses(
      "frozen-new-service",
      (dir) =>
        writeFileSync(
          join(dir, "plugwire.toml"),
          configText(gitUrl, `\n[services.extra]\ndriver = "npm:${npmName}"\nversion = "^2"\n`),
        ),
      "LOCK_FROZEN",
      "extra",
      /services\.extra is not in the lock \(a new service\)/,
      "--frozen",
    );

    // Signature by another key: a new release the publisher did not sign.
    sign(join(tmp.dir, "keys/stranger"), releaseBinary);
    release("v1.2.0", "1.2.0, signed by someone else");
    await refuses(
      "untrusted-signature",
      (dir) => {
        const file = join(dir, "plugwire.lock");
        writeFileSync(file, readFileSync(file, "utf8").replace(/\[plugins\.release\][^[]*/, ""));
      },
      "SIGNATURE_UNTRUSTED",
      "release",
      /signed by SHA256:\S+, which is not a trusted key/,
    );
    git(releaseRepo, "tag", "-d", "v1.2.0");

    // Archive truncated: a new release whose zip is cut short on the server.
    truncateSync(archiveRelease("1.6.0", join(tmp.dir, "keys/publisher")), 64);
    await refuses(
      "archive-truncated",
      (dir) =>
        writeFileSync(
          join(dir, "plugwire.toml"),
          configText(gitUrl).replace(/(services\.archive\]\n[^[]*version = )"\^1\.4"/, '$1"1.6.0"'),
        ),
      "INTEGRITY_MISMATCH",
      "archive",
      /truncated or altered/,
    );

    // Tag moved: v1.1.0 now points at another commit than the lock records.
    writeFileSync(join(releaseRepo, "NOTES"), "1.1.0, again\n");
    sign(join(tmp.dir, "keys/publisher"), releaseBinary);
    release("v1.1.0", "1.1.0 moved");
    await refuses(
      "tag-moved",
      () => {},
      "LOCK_MISMATCH",
      "release",
      /another commit \(the ref or tag moved\)/,
    );

    assert.deepEqual(state(project), before, "the project itself was never touched");
  });
});
