import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { buildGo, interopBin } from "../../scripts/prepare-interop.ts";
import { alive, node, repoRoot, waitFor } from "./support.ts";

describe("no orphans", () => {
  it("every plugin (TypeScript and Go) is gone after the host's SIGKILL (the kernel's pdeathsig, no timer)", async () => {
    assert.ok(existsSync("/usr/bin/setpriv"), "this test needs util-linux setpriv (dieWithHost)");
    const goPlugin = join(interopBin, "kv-example-plugin");
    if (!existsSync(goPlugin)) buildGo();
    const host = spawn(node, [join(repoRoot, "test/manager/fixtures/host.ts"), goPlugin], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: host.stdout! }), "line")) as [string];
    const pids = JSON.parse(line) as number[];
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(alive(pid), `plugin ${pid} runs`);
    host.kill("SIGKILL");
    // A deadline for the condition, not a figure: the kernel kills them as the host dies.
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, "every plugin to exit");
  });
});
