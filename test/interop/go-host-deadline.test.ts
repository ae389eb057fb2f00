// A real go-plugin host with a deadline longer than Node's largest timer (30 days, sent by
// grpc-go as "2592000S") calls a TypeScript plugin: the call must run to its end, not be
// aborted at once (issue 14, defect 6).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixturePlugin } from "../support/fixture.ts";
import { runGoHost } from "../support/interop.ts";

const day = 86_400_000;

describe("Go host → TypeScript plugin, long deadlines", () => {
  for (const tls of [
    { label: "plain", flags: [] },
    { label: "AutoMTLS", flags: ["-automtls"] },
  ]) {
    it(`${tls.label}: a 30-day deadline reaches the handler and does not fire early`, async () => {
      const report = await runGoHost({
        cmd: fixturePlugin,
        args: ["test-grpc"],
        flags: ["-scenario", "long-deadline", ...tls.flags],
      });
      assert.equal(report.ok, true, `${report.error}\n${report.pluginStderr}`);
      assert.equal(report.exited, true, "the plugin exited after Kill");
      assert.equal(report.result?.code, "OK");
      const remaining = Number(report.result?.deadlineRemainingMs);
      assert.ok(remaining > 30 * day - 60_000 && remaining <= 30 * day, `${remaining} ms left`);
    });
  }
});
