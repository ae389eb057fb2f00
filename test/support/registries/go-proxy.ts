// A Go module proxy on loopback: the GOPROXY protocol ($module/@v/list, .info, .mod, .zip) over
// node:http, from a folder modules are published into. Anything not published there (the
// fixtures' dependencies: go-plugin, grpc, ...) is served from this machine's module download
// cache, which has the same layout, as a company proxy mirrors the public modules.
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, relative, sep } from "node:path";
import { zipSync } from "fflate";

export interface GoProxy {
  /** `http://127.0.0.1:<port>` (a GOPROXY entry). */
  readonly url: string;
  /** The folder published modules are laid out in. */
  readonly root: string;
  /**
   * An environment for go in tests: this proxy, a fresh module cache (so every download goes
   * through the proxy; -modcacherw so it can be removed), no checksum database for the fixtures'
   * private module path (GONOSUMDB, as for any private module), no toolchain downloads.
   */
  env(modcache: string): NodeJS.ProcessEnv;
  /** Publishes a module folder at a version, as `go mod download` would find it. */
  publish(dir: string, module: string, version: string): void;
  /** The zip file served for a version (to tamper with it). */
  zip(module: string, version: string): string;
  /** Stops serving (the port then refuses connections); the files stay until dispose. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The fixtures' module path prefix: a private path no checksum database knows. */
export const fixturesModulePrefix = "example.com/plugwire-fixtures";

/** Starts the proxy on 127.0.0.1. */
export async function startGoProxy(): Promise<GoProxy> {
  const root = mkdtempSync(join(tmpdir(), "pw-goproxy-"));
  const mirror = join(
    execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim(),
    "cache/download",
  );
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    for (const base of [root, mirror]) {
      const file = join(base, path);
      if (relative(base, file).split(sep)[0] === ".." || !isFile(file)) continue;
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(readFileSync(file));
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end(`not found: ${path}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  const stop = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  const versionDir = (module: string) => join(root, escapePath(module), "@v");
  return {
    url,
    root,
    env: (modcache) => ({
      ...process.env,
      GOPROXY: url,
      GONOSUMDB: fixturesModulePrefix,
      GOMODCACHE: modcache,
      GOFLAGS: "-modcacherw",
      GOTOOLCHAIN: "local",
    }),
    publish(dir, module, version) {
      const at = versionDir(module);
      mkdirSync(at, { recursive: true });
      const prefix = `${module}@${version}/`;
      const files: Record<string, Uint8Array> = {};
      for (const file of moduleFiles(dir)) files[prefix + file] = readFileSync(join(dir, file));
      writeFileSync(join(at, `${version}.zip`), zipSync(files, { level: 6, mtime: "2026-01-01" }));
      writeFileSync(join(at, `${version}.mod`), readFileSync(join(dir, "go.mod")));
      writeFileSync(
        join(at, `${version}.info`),
        JSON.stringify({ Version: version, Time: "2026-01-01T00:00:00Z" }),
      );
      const list = join(at, "list");
      const known = isFile(list) ? readFileSync(list, "utf8").split("\n").filter(Boolean) : [];
      writeFileSync(list, `${[...new Set([...known, version])].join("\n")}\n`);
    },
    zip: (module, version) => join(versionDir(module), `${version}.zip`),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The files a module zip holds (golang.org/x/mod/zip's rules, for a plain module): every regular
 * file, relative to the module root, except .git, vendor/ and folders that are modules themselves.
 */
function moduleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(join(dir, at), { withFileTypes: true })) {
      const rel = at === "" ? entry.name : `${at}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === ".git" || entry.name === "vendor") continue;
        if (isFile(join(dir, rel, "go.mod"))) continue;
        walk(rel);
      } else if (entry.isFile()) out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

/** The module proxy's case encoding: an uppercase letter is `!` and its lowercase. */
function escapePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The fixture Go plugin's module path. */
export const usersGoModule = `${fixturesModulePrefix}/users-go`;

/** Publishes the fixture Go plugin (test/fixtures/published/users-go) at `version` (`v1.2.0`). */
export function publishUsersGo(proxy: GoProxy, version: string): void {
  const fixture = new URL("../../fixtures/published/users-go", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "pw-go-publish-"));
  try {
    for (const file of moduleFiles(fixture)) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), readFileSync(join(fixture, file)));
    }
    const manifest = join(dir, "plugwire.toml");
    writeFileSync(
      manifest,
      readFileSync(manifest, "utf8").replace(/^version = .*$/m, `version = "${version.slice(1)}"`),
    );
    proxy.publish(dir, usersGoModule, version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
