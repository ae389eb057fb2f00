// Fuzzed handshake lines through real plugin processes: the host reads them from a plugin's
// stdout (a fixture that prints the line it is given), and every start fails with a coded
// PluginError, kills the plugin and leaves no socket directory behind.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PluginError } from "../../src/errors/plugin-error.ts";
import { startPlugin } from "../../src/index.ts";
import { processAlive } from "../../src/platform/process.ts";
import { fuzz, fuzzIterations, loadCorpus, mutate } from "./support.ts";

const printLine = fileURLToPath(new URL("./fixtures/print-line", import.meta.url));
const handshake = { magicCookieKey: "FUZZ_COOKIE", magicCookieValue: "fuzz", protocolVersion: 1 };
// Lines the host dials (or whose dial crashes it) are left to the issue 14 address tests: here,
// lines that must fail before or at the connection with a code.
const safe = loadCorpus("handshake").filter(
  (c) => !/^(valid|bad-port|tcp-|unix-|nul|crlf|unicode|invalid-utf8|cert-)/.test(c.name),
);
const codes = new Set([
  "HANDSHAKE_INVALID",
  "CORE_VERSION_MISMATCH",
  "PROTOCOL_VERSION_MISMATCH",
  "PROTOCOL_UNSUPPORTED",
  "MUX_UNSUPPORTED",
  "TLS_FAILED",
  "UNAVAILABLE",
]);

describe("fuzz: handshake lines from real plugin processes", () => {
  it("every fuzzed line fails the start with a coded error, nothing left behind", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "pw-fuzz-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // the host's private socket directories go here
    try {
      await fuzz({
        target: "handshake",
        corpus: safe,
        iterations: fuzzIterations(12),
        inputDeadlineMs: 8000,
        generate: (rng) => {
          // Mutations that keep field 4 away from a dialable address (see above).
          for (;;) {
            const line = mutate(rng, rng.pick(safe).data, [], []).toString("latin1");
            if (!/\n|\0/.test(line)) return Buffer.from(line, "latin1");
          }
        },
        async check(input) {
          const line = input.toString("latin1");
          let pid: number | undefined;
          try {
            await using plugin = await startPlugin({
              cmd: printLine,
              handshake,
              env: { PLUGWIRE_FUZZ_LINE: line },
              startTimeoutMs: 5000,
              dieWithHost: false,
            });
            pid = plugin.pid;
            assert.fail(`started on ${JSON.stringify(line)}`);
          } catch (error) {
            if (!(error instanceof PluginError)) throw error;
            assert.ok(codes.has(error.code), `code ${error.code}: ${error.message.slice(0, 200)}`);
            pid = error.details.pid as number | undefined;
          }
          if (pid !== undefined) assert.equal(processAlive(pid), false, "the plugin still runs");
          assert.deepEqual(readdirSync(tmp), [], "a socket directory was left behind");
        },
      });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
