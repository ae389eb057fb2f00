// Issue 14, defect 4: a burst of calls cancelled by their deadline must not wedge the gRPC
// connection to a TypeScript plugin (nghttp2's rapid-reset guard ended the session, and over
// TLS the host never noticed; docs/transport.md, "Cancellation bursts").
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  repoRoot,
  socketDir,
  testHandshake,
  testPlugins,
  waitFor,
} from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { startPlugin } from "../start/start.ts";

const plugin = join(repoRoot, "test/fixtures/hostile/cancel-burst-plugin.ts");

describe("cancellation bursts on gRPC (issue 14, defect 4)", () => {
  for (const autoMtls of [true, false]) {
    it(`10 × 300 calls cancelled by tiny deadlines, then a normal call answers (AutoMTLS ${autoMtls ? "on" : "off"})`, async () => {
      using dir = socketDir();
      const client = await startPlugin({
        cmd: process.execPath,
        args: ["--conditions=plugwire-source", plugin],
        handshake: testHandshake,
        plugins: testPlugins,
        fastWire: false,
        autoMtls,
        unixSocketDir: dir.dir,
        startTimeoutMs: 20_000,
      });
      try {
        const fixture = client.dispense("fixture");
        for (let round = 0; round < 10; round++) {
          const results = await Promise.allSettled(
            Array.from({ length: 300 }, () =>
              fixture.sleep({ durationMs: 60_000 }, { timeoutMs: 1 + (round % 3) }),
            ),
          );
          for (const result of results) {
            assert.equal(result.status, "rejected");
            assert.ok(result.reason instanceof PluginError);
            assert.equal(result.reason.code, "DEADLINE_EXCEEDED", result.reason.message);
          }
        }
        const payload = new TextEncoder().encode("after the burst");
        const answer = await fixture.echo({ payload }, { timeoutMs: 15_000 });
        assert.equal(Buffer.from(answer.payload).toString(), "after the burst");
        // Every handler that started saw its signal fire (none is left running).
        let last = { cancelled: -1, lastReason: "" };
        await waitFor(
          async () => {
            last = await fixture.cancelled({}, { timeoutMs: 15_000 });
            return last.lastReason === `started=${last.cancelled}`;
          },
          15_000,
          "every started handler to be cancelled",
        );
        assert.ok(last.cancelled > 0);
        assert.equal(client.state.t, "running");
      } finally {
        await client.kill();
      }
      assert.deepEqual(dir.leftovers(), []);
    });
  }
});
