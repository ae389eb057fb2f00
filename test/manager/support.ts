// Helpers for the manager's tests: plugin directories with real executables in them.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ManagedPluginOptions } from "../../src/manager/index.ts";
import { launchProcess, ManagedPlugin } from "../../src/manager/index.ts";
import { running } from "../fixtures/hostile/leftovers.ts";
import { managerHandshake } from "./fixtures/handshake.ts";

export { managerHandshake };

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const providerFixture = join(repoRoot, "test/manager/fixtures/provider-plugin.ts");
export const node = process.execPath;

/** A temporary directory removed on dispose. */
export function tempDir(prefix = "pw-mgr-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an executable shell script. */
export function writeScript(path: string, body: string, mode = 0o755): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** Writes an executable that runs the provider fixture in `scenario`. */
export function fixtureExecutable(
  dir: string,
  name: string,
  scenario: string,
  args: string[] = [],
): string {
  const quoted = [scenario, ...args].map((a) => `'${a}'`).join(" ");
  return writeScript(
    join(dir, name),
    `FIXTURE_ID='${name}' exec '${node}' '${providerFixture}' ${quoted} "$@"`,
  );
}

/** A supervised fixture plugin (not started). */
export function managedFixture(
  scenario: string,
  options: Partial<ManagedPluginOptions> & { args?: string[] } = {},
): ManagedPlugin {
  const { args = [], ...rest } = options;
  return new ManagedPlugin({
    id: `fixture-${scenario}`,
    healthIntervalMs: 0,
    ...rest,
    launch: (signal) =>
      launchProcess(
        {
          name: `fixture-${scenario}`,
          cmd: node,
          args: [providerFixture, scenario, ...args],
          handshake: managerHandshake,
          startTimeoutMs: 20_000,
        },
        signal,
      ),
  });
}

export { waitFor } from "../support/fixture.ts";

/**
 * Whether the process still runs. A zombie does not: a killed plugin whose parent (the host) is
 * gone waits for PID 1 to reap it, which can take a while on a loaded machine.
 */
export function alive(pid: number): boolean {
  return running(pid);
}
