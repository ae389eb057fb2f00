// The manager examples run as a user would run them, and say what they should.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../../test/support/fixture.ts";

const run = promisify(execFile);

async function example(name: string): Promise<string> {
  const cwd = join(repoRoot, "examples/manager", name);
  const { stdout } = await run(process.execPath, ["host.ts"], { cwd, timeout: 120_000 });
  return stdout;
}

describe("manager examples (modelled on the seeds)", () => {
  it("providers (scafctl): a folder of provider plugins is discovered and called by name", async () => {
    const out = await example("providers");
    assert.match(out, /example\.text\/upper: Upper-cases text/);
    assert.match(out, /\{ text: 'HELLO PLUGINS' \}/);
    assert.match(out, /\{ sum: 6\.5 \}/);
  });

  it("crash (Iglu): a crashing plugin is restarted, then disabled by the breaker, its manifest kept", async () => {
    const out = await example("crash");
    assert.match(out, /state: restarting in \d+ ms/);
    assert.match(out, /after restart: \{ pid: \d+ \}/);
    assert.match(out, /\[PLUGIN_DISABLED\] plugin example\.flaky: disabled after 3 crashes/);
    assert.match(out, /manifest kept: example\.flaky 0\.1\.0, restarts: 2/);
  });

  it("users (Reva): one service, drivers in-process and as TypeScript and Go plugins, indistinguishable to the host", async () => {
    const out = await example("users");
    for (const line of ["userprovider ", "userprovider-ts", "userprovider-go"]) {
      assert.match(
        out,
        new RegExp(`${line}\\s+Marie Curie <marie@example.org>; example.org: 3 users`),
      );
    }
  });
});
