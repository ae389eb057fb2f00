// Helpers for the source suites: a temporary project and cache, and starting what a source
// fetched (every published fixture serves the users example's UserProvider).
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserProvider } from "../../examples/manager/users/gen/users_pb.js";
import { startPlugin } from "../../src/index.ts";
import type { FetchedSource } from "../../src/sources/resolve.ts";

export const usersHandshake = {
  magicCookieKey: "USERS_PLUGIN",
  magicCookieValue: "users",
  protocolVersion: 1,
};

/** A project folder (where `.npmrc` lives) and a cache, removed on dispose. */
export function project() {
  const dir = mkdtempSync(join(tmpdir(), "pw-sources-"));
  return {
    dir,
    cacheDir: join(dir, "cache"),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts a fetched plugin and answers which driver (and version) serves it. */
export async function driverOf(fetched: FetchedSource): Promise<string> {
  await using plugin = await startPlugin({
    cmd: fetched.executable,
    handshake: usersHandshake,
    plugins: { users: UserProvider },
    startTimeoutMs: 30_000,
  });
  return (await plugin.dispense("users").findUsers({ query: "marie" })).driver;
}

/** What the cache holds besides finished builds: staging or temporary folders left behind. */
export function leftovers(cacheDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (!existsSync(dir) || !statSync(dir).isDirectory() || depth > 3) return;
    for (const name of readdirSync(dir)) {
      if (/\.tmp-|^npm-|^go-|^archive-/.test(name)) found.push(join(dir, name));
      else if (depth < 3) walk(join(dir, name), depth + 1);
    }
  };
  walk(cacheDir, 0);
  return found;
}
