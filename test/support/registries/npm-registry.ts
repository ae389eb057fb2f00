// A real npm registry on loopback (verdaccio, no uplinks), with its own storage and config in a
// temporary folder, and packages published into it with the real `npm publish`.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { waitFor } from "../wait.ts";
import { freePort } from "./ports.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const verdaccioBin = join(repoRoot, "node_modules/verdaccio/bin/verdaccio");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

export interface NpmRegistry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** verdaccio's storage: `<storage>/<name>/<name>-<version>.tgz` are the tarballs it serves. */
  readonly storage: string;
  /** An `.npmrc` text pointing npm at this registry, with a publish token for it. */
  readonly npmrc: string;
  /**
   * An environment for npm in tests: its own cache (never the user's ~/.npm), no retries (a
   * registry that is down fails at once), and nothing from an npm script running the tests.
   */
  readonly env: NodeJS.ProcessEnv;
  /** Publishes a package folder as it is (`npm publish --ignore-scripts`; prereleases as `next`). */
  publish(dir: string): Promise<void>;
  /** The tarball file verdaccio serves for a version (to tamper with it). */
  tarball(name: string, version: string): string;
  /** Stops the registry (the port then refuses connections); the files stay until dispose. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts verdaccio on 127.0.0.1 and creates a user to publish with. */
export async function startNpmRegistry(): Promise<NpmRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "pw-npm-registry-"));
  const storage = join(dir, "storage");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  writeFileSync(
    join(dir, "config.yaml"),
    [
      `storage: ${JSON.stringify(storage)}`,
      "auth:",
      `  htpasswd: { file: ${JSON.stringify(join(dir, "htpasswd"))} }`,
      "uplinks: {}",
      "packages:",
      "  '**': { access: $all, publish: $authenticated, unpublish: $authenticated }",
      "log: { type: stdout, format: pretty, level: error }",
      "",
    ].join("\n"),
  );
  let output = "";
  const child: ChildProcess = spawn(
    process.execPath,
    [verdaccioBin, "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } },
  );
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      child.kill("SIGTERM");
    }
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`verdaccio exited: ${output}`);
        return (await fetch(`${url}-/ping`).catch(() => undefined))?.ok;
      },
      30_000,
      "verdaccio to answer /-/ping",
      () => output,
    );
    const token = await createUser(url);
    const host = url.replace(/^http:/, "");
    const npmrc = `registry=${url}\n${host}:_authToken=${token}\n`;
    const env = npmTestEnv(join(dir, "npm-cache"));
    const userconfig = join(dir, "publisher.npmrc");
    writeFileSync(userconfig, npmrc);
    return {
      url,
      storage,
      npmrc,
      env,
      async publish(pkg) {
        const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
        const tag = String(version).includes("-") ? ["--tag", "next"] : [];
        await run(
          npm,
          ["publish", "--ignore-scripts", ...tag, "--userconfig", userconfig, "--registry", url],
          {
            cwd: pkg,
            env,
          },
        );
      },
      tarball: (name, version) =>
        join(storage, name, `${name.replace(/^@[^/]+\//, "")}-${version}.tgz`),
      stop,
      async [Symbol.asyncDispose]() {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Registers a user through the registry's CouchDB-style login endpoint; returns its token. */
async function createUser(url: string): Promise<string> {
  const response = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "publisher", password: "publisher-password" }),
  });
  const body = (await response.json()) as { token?: string };
  if (body.token === undefined)
    throw new Error(`verdaccio refused a user: ${JSON.stringify(body)}`);
  return body.token;
}

/** The environment npm runs with in tests (see `NpmRegistry.env`). */
export function npmTestEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return {
    ...env,
    npm_config_cache: cache,
    npm_config_fetch_retries: "0",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
}

/**
 * Publishes `@bufbuild/protobuf` (the copy this repository installed) into the registry, as a
 * company registry mirrors the packages its plugins depend on.
 */
export async function mirrorProtobuf(registry: NpmRegistry): Promise<void> {
  const from = join(repoRoot, "node_modules/@bufbuild/protobuf");
  const dir = mkdtempSync(join(tmpdir(), "pw-npm-mirror-"));
  try {
    cpSync(from, dir, { recursive: true });
    await registry.publish(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Publishes the fixture TypeScript plugin (test/fixtures/published/users-ts) at `version`: its
 * dependencies resolved against the registry into an `npm-shrinkwrap.json` (the lock a published
 * package carries), as a publisher would before `npm publish`. `dependencies` are added to its own.
 */
export async function publishUsersTs(
  registry: NpmRegistry,
  version: string,
  dependencies: Record<string, string> = {},
): Promise<string> {
  const fixture = join(repoRoot, "test/fixtures/published/users-ts");
  const dir = mkdtempSync(join(tmpdir(), "pw-npm-publish-"));
  try {
    cpSync(fixture, dir, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    pkg.version = version;
    pkg.dependencies = { ...pkg.dependencies, ...dependencies };
    writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    const manifest = JSON.parse(readFileSync(join(dir, "plugwire.json"), "utf8"));
    manifest.version = version;
    writeFileSync(join(dir, "plugwire.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(dir, "version.ts"), `export const version = ${JSON.stringify(version)};\n`);
    const npmrc = join(dir, ".npmrc");
    writeFileSync(npmrc, registry.npmrc);
    await run(npm, ["install", "--package-lock-only", "--ignore-scripts"], {
      cwd: dir,
      env: registry.env,
    });
    await run(npm, ["shrinkwrap"], { cwd: dir, env: registry.env });
    rmSync(npmrc);
    await registry.publish(dir);
    return pkg.name as string;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
