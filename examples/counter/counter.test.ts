// The bidirectional counter in every pairing with go-plugin's own example host and plugin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../../test/support/fixture.ts";
import { goBinary } from "../../test/support/interop.ts";

const run = promisify(execFile);
const tsPlugin = join(repoRoot, "examples/counter/plugin-ts/counter-plugin");
const tsHost = [process.execPath, join(repoRoot, "examples/counter/host.ts")];

async function counter(
  host: string[],
  plugin: string,
  cwd: string,
  ...args: string[]
): Promise<string> {
  const [cmd, ...hostArgs] = host;
  const { stdout } = await run(cmd!, [...hostArgs, ...args], {
    cwd,
    env: { ...process.env, COUNTER_PLUGIN: plugin },
    timeout: 30_000,
  });
  return stdout.trim();
}

describe("bidirectional counter (go-plugin's examples/bidirectional)", () => {
  const pairings = [
    { label: "TS host → TS plugin", host: () => tsHost, plugin: () => tsPlugin },
    {
      label: "go-plugin's example host → TS plugin",
      host: () => [goBinary("bidirectional-example-host")],
      plugin: () => tsPlugin,
    },
    {
      label: "TS host → go-plugin's example plugin",
      host: () => tsHost,
      plugin: () => goBinary("bidirectional-example-plugin"),
    },
    {
      label: "go-plugin's host → go-plugin's plugin (baseline)",
      host: () => [goBinary("bidirectional-example-host")],
      plugin: () => goBinary("bidirectional-example-plugin"),
    },
  ];
  for (const pairing of pairings) {
    it(pairing.label, async () => {
      const dir = mkdtempSync(join(tmpdir(), "pw-counter-"));
      try {
        const host = pairing.host();
        const plugin = pairing.plugin();
        assert.equal(await counter(host, plugin, dir, "put", "c", "3"), "");
        assert.equal(await counter(host, plugin, dir, "get", "c"), "3");
        await counter(host, plugin, dir, "put", "c", "4");
        assert.equal(await counter(host, plugin, dir, "get", "c"), "7");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
