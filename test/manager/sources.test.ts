import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UserProvider } from "../../examples/manager/users/gen/users_pb.js";
import { jsonUserProvider } from "../../examples/manager/users/json-driver.ts";
import { parseConfig } from "../../src/config/config.ts";
import { ServiceManager } from "../../src/config/service-manager.ts";
import { Provider } from "../../src/gen/plugwire/manifest/v1/manifest_pb.js";
import { PluginError } from "../../src/index.ts";
import { git, startGitDaemon } from "./git-daemon.ts";
import { repoRoot, tempDir } from "./support.ts";

const usersExample = join(repoRoot, "examples/manager/users");
const inProcess = {
  json: (settings: Readonly<Record<string, unknown>>, { configDir }: { configDir: string }) => [
    jsonUserProvider(settings, configDir),
  ],
};

function usersRepo(base: string): void {
  const repo = join(base, "users.git");
  cpSync(join(usersExample, "plugin-go"), repo, { recursive: true });
  git(repo, "init", "--quiet", "--initial-branch=main");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "users plugin");
  git(repo, "tag", "v1");
  git(repo, "checkout", "--quiet", "-b", "broken");
  writeFileSync(join(repo, "broken.go"), "package main\n\nfunc broken() { return 1 }\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "a build that fails");
  git(repo, "checkout", "--quiet", "main");
}

const service = (name: string, driver: string, extra = "") =>
  `[services.${name}]\ndriver = "${driver}"\n${extra}\n[services.${name}.drivers.${driverKeyOf(driver)}]\nusers = "${join(usersExample, "users.json")}"\n`;
const driverKeyOf = (driver: string) =>
  driver
    .replace(/\/+$/, "")
    .split(/[/:]/)
    .pop()!
    .replace(/\.git$/, "");
const header = (cacheDir: string) =>
  `[manager]\ncache_dir = "${cacheDir}"\nstart_timeout_ms = 20000\n[manager.handshake]\nmagic_cookie_key = "USERS_PLUGIN"\nmagic_cookie_value = "users"\n\n`;

describe("drivers from four sources", () => {
  it("serves the same user provider in process, from a binary, a source folder and a git URL", async () => {
    using tmp = tempDir();
    usersRepo(tmp.dir);
    using daemon = await startGitDaemon(tmp.dir);
    const bin = join(tmp.dir, "bin/users-go");
    execFileSync("go", ["build", "-o", bin, "."], {
      cwd: join(usersExample, "plugin-go"),
      env: { ...process.env, GOFLAGS: "-mod=mod" },
    });
    const config = join(tmp.dir, "plugwire.toml");
    writeFileSync(
      config,
      header(join(tmp.dir, "cache")) +
        service("inprocess", "json") +
        service("binary", bin) +
        service("source-ts", join(usersExample, "plugin-ts")) +
        service("source-go", join(usersExample, "plugin-go")) +
        service("git", daemon.url("users.git"), 'ref = "v1"') +
        service("bad-url", daemon.url("nope.git")) +
        service("missing-ref", daemon.url("users.git"), 'ref = "v9"') +
        service("build-fails", daemon.url("users.git"), 'ref = "broken"'),
    );
    const progress: string[] = [];
    await using manager = await ServiceManager.load(config, {
      inProcess,
      onProgress: (m) => progress.push(m),
      supervise: { autoRestart: false, healthIntervalMs: 0 },
    });
    const expected = {
      username: "marie",
      displayName: "Marie Curie",
      mail: "marie@example.org",
      groups: ["physics", "chemistry"],
    };
    const drivers: Record<string, string> = {};
    for (const name of ["inprocess", "binary", "source-ts", "source-go", "git"]) {
      const users = manager.service(name, UserProvider);
      const { $typeName: _, ...user } = await users.getUser({ username: "marie" });
      assert.deepEqual(user, expected, name);
      drivers[name] = (await users.findUsers({ query: "physics" })).driver;
      await assert.rejects(users.getUser({ username: "nobody" }), { code: "NOT_FOUND" });
    }
    assert.deepEqual(drivers, {
      inprocess: "json-ts",
      binary: "json-go",
      "source-ts": "json-ts",
      "source-go": "json-go",
      git: "json-go",
    });
    assert.ok(
      progress.some((p) => p.startsWith("cloning git://")),
      progress.join("\n"),
    );
    assert.equal(manager.plugin("inprocess").connection?.info.transport, "in-process");
    assert.equal(manager.plugin("git").connection?.info.transport, "unix");

    const failure = async (name: string) =>
      manager
        .service(name, UserProvider)
        .getUser({ username: "marie" })
        .then(
          () => assert.fail(`${name} should fail`),
          (error: unknown) => error as PluginError,
        );
    const badUrl = await failure("bad-url");
    assert.equal(badUrl.code, "FETCH_FAILED");
    assert.match(
      badUrl.message,
      /cannot reach the git repository git:\/\/127\.0\.0\.1:\d+\/nope\.git/,
    );
    const missingRef = await failure("missing-ref");
    assert.equal(missingRef.code, "FETCH_FAILED");
    assert.match(missingRef.message, /has no ref "v9"/);
    const buildFails = await failure("build-fails");
    assert.equal(buildFails.code, "BUILD_FAILED");
    assert.match(buildFails.message, /go build failed[\s\S]*broken\.go/);
  });

  it("rebuilds a source folder when it changes, and reuses the build when it does not", async () => {
    using tmp = tempDir();
    const src = join(tmp.dir, "greeter");
    mkdirSync(src);
    const write = (word: string) =>
      writeFileSync(
        join(src, "main.ts"),
        `import { serveProviders } from "${repoRoot}/src/manager/index.ts";\n` +
          `const word: string = "${word}";\n` +
          `await serveProviders({ handshake: { magicCookieKey: "USERS_PLUGIN", magicCookieValue: "users", protocolVersion: 1 }, manifest: { id: "greeter" }, providers: { greet: { execute: () => word } } });\n`,
      );
    write("hello");
    writeFileSync(join(src, "plugwire.json"), JSON.stringify({ id: "greeter", entry: "main.ts" }));
    const config = join(tmp.dir, "plugwire.toml");
    writeFileSync(
      config,
      `${header(join(tmp.dir, "cache"))}[services.greeter]\ndriver = "./greeter"\n`,
    );
    await using manager = await ServiceManager.load(config, { supervise: { healthIntervalMs: 0 } });
    const greeter = manager.plugin("greeter");
    const greet = async () =>
      JSON.parse(
        (await greeter.client(Provider).execute({ name: "greet", inputJson: "{}" })).outputJson,
      );
    assert.equal(await greet(), "hello");
    await greeter.stop();
    assert.equal(await greet(), "hello");
    assert.equal(
      readdirSync(join(tmp.dir, "cache/builds")).length,
      1,
      "unchanged source is reused",
    );
    write("bonjour");
    await greeter.stop();
    assert.equal(await greet(), "bonjour");
    assert.equal(readdirSync(join(tmp.dir, "cache/builds")).length, 2, "changed source is rebuilt");
    // A syntax error fails the build with the file named.
    writeFileSync(join(src, "main.ts"), "const x: number = ;\n");
    await greeter.stop();
    await assert.rejects(greet(), { code: "BUILD_FAILED", message: /main\.ts/ });
  });
});

describe("config errors", () => {
  it("name the file, line and key", () => {
    const bad = (text: string) => {
      try {
        parseConfig(text, "/etc/host/plugwire.toml");
      } catch (error) {
        assert.ok(error instanceof PluginError);
        assert.equal(error.code, "CONFIG_INVALID");
        return error.rawMessage;
      }
      assert.fail("expected an error");
    };
    assert.match(
      bad('[manager]\nstart_timeout_ms = "soon"\n'),
      /^\/etc\/host\/plugwire\.toml:2: key `manager\.start_timeout_ms`: expected a positive number/,
    );
    assert.match(
      bad('[services.users]\n# no driver\nref = "v1"\n'),
      /plugwire\.toml:1: key `services\.users\.driver`: expected a non-empty string/,
    );
    assert.match(
      bad('[services.users]\ndriver = "json"\ncolour = 1\n'),
      /plugwire\.toml:3: key `services\.users\.colour`: unknown key/,
    );
    assert.match(bad("[manager\n"), /plugwire\.toml:1:\d+: invalid TOML/);
    assert.match(
      bad('[services.users]\ndriver = "json"\n[services.users.drivers]\njson = 5\n'),
      /plugwire\.toml:4: key `services\.users\.drivers\.json`: expected a table/,
    );
  });

  it("an unknown driver names where it is configured", async () => {
    using tmp = tempDir();
    const config = join(tmp.dir, "plugwire.toml");
    writeFileSync(config, '[services.users]\n\ndriver = "./no/such/plugin"\n');
    await assert.rejects(ServiceManager.load(config), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.match(
        error.message,
        /plugwire\.toml:3: key `services\.users\.driver`: driver "\.\/no\/such\/plugin" is neither/,
      );
      return true;
    });
  });
});
