// go-plugin's bidirectional pattern under a real go-plugin v1.8.0 host, several calls per
// session: every Put serves a fresh broker id (NextId + AcceptAndServe) and stops that server
// when the call returns (interop/go/cmd/counter-host). In every mode go-plugin's own Go plugin
// runs the same session as the baseline.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/fixture.ts";
import { goBinary } from "../support/interop.ts";

const tsPlugin = join(repoRoot, "examples/counter/plugin-ts/counter-plugin");
const puts = 4;

/** Runs one session of `puts` Puts and a Get; resolves with what the host printed, or its error. */
function session(flags: string[], plugin: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "pw-counter-host-"));
  return new Promise<string>((resolve) => {
    execFile(
      goBinary("counter-host"),
      [...flags, "-puts", String(puts), "--", plugin],
      { cwd: dir, timeout: 120_000 },
      (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        const out = stdout.trim();
        resolve(error === null ? out : `${out || error.message}\n${stderr.slice(-4000)}`);
      },
    );
  });
}

const modes = [
  { label: "plain", flags: [] },
  { label: "AutoMTLS", flags: ["-automtls"] },
  { label: "multiplexed", flags: ["-mux"] },
  { label: "AutoMTLS and multiplexed", flags: ["-automtls", "-mux"] },
];

describe("Go host, a new brokered server for every call (go-plugin's examples/bidirectional)", () => {
  for (const mode of modes) {
    it(`${mode.label}: ${puts} Puts in one session, each calling back, then Get`, async () => {
      const [ts, go] = await Promise.all([
        session(mode.flags, tsPlugin),
        session(mode.flags, goBinary("bidirectional-example-plugin")),
      ]);
      assert.equal(go, String(puts), "go-plugin's own plugin (baseline)");
      assert.equal(ts, String(puts), "the TypeScript counter plugin");
    });
  }
});
