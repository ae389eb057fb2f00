// Hostile plugins (test/fixtures/hostile/): a plugin that announces an address the host must not
// dial, answers the start check with something that is not an answer, or breaks the fast wire's
// rules. The host never crashes, a start fails with a coded error or succeeds with a working
// client, and nothing is left behind: no process, no socket directory.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import {
  processAlive,
  repoRoot,
  testHandshake,
  testPlugins,
  waitFor,
} from "../../../test/support/fixture.ts";
import type { PluginErrorCode } from "../../errors/plugin-error.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { StartOptions } from "../options.ts";
import { startPlugin } from "./start.ts";

// Every private socket directory of this file's plugins goes under `root`, so "nothing left
// behind" is `root` being empty after each start.
const root = mkdtempSync(join(tmpdir(), "pw-hostile-"));
process.env.TMPDIR = root;
after(() => rmSync(root, { recursive: true, force: true }));

const hostile = (file: string) => join(repoRoot, "test/fixtures/hostile", file);

function startHostile(
  file: string,
  args: readonly string[],
  options: Partial<StartOptions<typeof testPlugins>> = {},
) {
  const script = file.endsWith(".ts");
  return startPlugin({
    cmd: script ? process.execPath : hostile(file),
    args: script ? [hostile(file), ...args] : args,
    handshake: testHandshake,
    plugins: testPlugins,
    startTimeoutMs: 20_000,
    ...options,
  });
}

/** The start fails with `code` and a message matching `pattern`; no process or directory is left. */
async function failsWith(
  start: Promise<unknown>,
  code: PluginErrorCode,
  pattern: RegExp,
): Promise<PluginError> {
  const caught = await start.then(
    async (client) => {
      await (client as { kill(): Promise<void> }).kill();
      return new Error("the start succeeded");
    },
    (error: unknown) => error,
  );
  assert.ok(caught instanceof PluginError, `expected a PluginError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  assert.ok(caught.message.includes(`[${code}] plugin `), "the message names the plugin");
  const pid = caught.details.pid;
  assert.equal(typeof pid, "number");
  assert.equal(processAlive(pid as number), false, "the plugin process was killed");
  assert.deepEqual(readdirSync(root), [], "no socket directory is left");
  return caught;
}

const wires = [
  { label: "gRPC", protocol: "grpc", options: { fastWire: false } },
  { label: "fast wire", protocol: "grpc+fast/1", options: {} },
] as const;
const tlsModes = [
  { label: "AutoMTLS", options: {} },
  { label: "plain", options: { autoMtls: false } },
] as const;

describe("a hostile plugin's announced address", () => {
  for (const wire of wires) {
    for (const tls of tlsModes) {
      describe(`${wire.label}, ${tls.label}`, () => {
        const announce = (network: string, address: string) =>
          startHostile("announce.ts", [network, address, wire.protocol], {
            ...wire.options,
            ...tls.options,
          });

        it("an over-long unix socket path is HANDSHAKE_INVALID, and the host does not crash", async () => {
          const error = await failsWith(
            announce("unix", `{dir}/${"p".repeat(150)}`),
            "HANDSHAKE_INVALID",
            /unix socket path of 1\d\d bytes[\s\S]*longer than the 107 bytes/,
          );
          assert.equal(error.details.field, "address");
        });

        it("a TCP port out of range is HANDSHAKE_INVALID, not a running client", async () => {
          await failsWith(
            announce("tcp", "127.0.0.1:99999"),
            "HANDSHAKE_INVALID",
            /port 99999 .*1–65535/,
          );
          await failsWith(announce("tcp", "127.0.0.1:0"), "HANDSHAKE_INVALID", /port 0 /);
        });

        it("a TCP address off this machine is HANDSHAKE_INVALID unless allowRemoteTcp", async () => {
          await failsWith(
            announce("tcp", "192.0.2.1:1234"),
            "HANDSHAKE_INVALID",
            /192\.0\.2\.1 is not a loopback address[\s\S]*allowRemoteTcp/,
          );
          await failsWith(
            announce("tcp", "plugin.example:1234"),
            "HANDSHAKE_INVALID",
            /not an IP address/,
          );
        });
      });
    }
  }

  it("a unix path with a NUL byte is HANDSHAKE_INVALID", async () => {
    await failsWith(
      startHostile("announce.ts", ["unix", "{dir}/a{nul}b"], { autoMtls: false }),
      "HANDSHAKE_INVALID",
      /NUL byte/,
    );
  });
});

describe("a hostile plugin's start check", () => {
  it("a health check answered over HTTP/2 without a gRPC status fails the start", async () => {
    await failsWith(
      startHostile("not-grpc.ts", [], { autoMtls: false, fastWire: false }),
      "UNAVAILABLE",
      /did not answer the connection check[\s\S]*HTTP 404/,
    );
  });

  it("a health answer that does not decode fails the start", async () => {
    await failsWith(
      startHostile("fast-wire.ts", ["bad-health"], { autoMtls: false }),
      "UNAVAILABLE",
      /did not answer the connection check[\s\S]*cannot decode/,
    );
  });
});

describe("a hostile plugin's handshake line", () => {
  it("a 10 MiB first line is HANDSHAKE_INVALID", async () => {
    await failsWith(
      startHostile("big-line.sh", [], { autoMtls: false }),
      "HANDSHAKE_INVALID",
      /Unrecognized remote plugin message: x{100}/,
    );
  });

  it("binary garbage is HANDSHAKE_INVALID", async () => {
    await failsWith(
      startHostile("garbage-line.sh", [], { autoMtls: false }),
      "HANDSHAKE_INVALID",
      /error parsing core protocol version/,
    );
  });
});

describe("a hostile fast-wire plugin's frames", () => {
  // Before the fix the stream never settled: the test's own timeout bounds that.
  it("a reply frame answering a stream ends the stream with INTERNAL", {
    timeout: 30_000,
  }, async () => {
    await using plugin = await startHostile("fast-wire.ts", ["reply-to-stream"], {
      autoMtls: false,
      killGraceMs: 100,
    });
    assert.equal(plugin.wire, "fast");
    const fixture = plugin.dispense("fixture");
    await assert.rejects(
      async () => {
        for await (const _ of fixture.count({ n: 3 })) {
          // no message arrives
        }
      },
      (error: unknown) =>
        error instanceof PluginError &&
        error.code === "INTERNAL" &&
        /streaming call with a reply frame/.test(error.message),
    );
  });

  it("a plugin that ignores the host's credit has its stream reset, not buffered (RESOURCE_EXHAUSTED)", {
    timeout: 30_000,
  }, async () => {
    const stderr = new PassThrough();
    let said = "";
    stderr.on("data", (chunk: Buffer) => {
      said += chunk.toString();
    });
    await using plugin = await startHostile("fast-wire.ts", ["flood"], {
      autoMtls: false,
      killGraceMs: 100,
      stderr,
    });
    const stream = plugin.dispense("fixture").count({ n: 3 })[Symbol.asyncIterator]();
    await stream.next(); // the call is open; from here on the host reads nothing
    // 4 MiB arrive against a 1 MiB window: the host resets the call and tells the plugin.
    await waitFor(() => /cancelled \d+/.test(said), 20_000, "the host to reset the flooded stream");
    await assert.rejects(
      stream.next(),
      (error: unknown) =>
        error instanceof PluginError &&
        error.code === "RESOURCE_EXHAUSTED" &&
        /beyond its flow-control window/.test(error.message),
    );
  });

  it("kill() settles a stream the plugin never answers", { timeout: 30_000 }, async () => {
    const plugin = await startHostile("fast-wire.ts", ["silent"], {
      autoMtls: false,
      killGraceMs: 100,
    });
    const pid = plugin.pid;
    const stream = (async () => {
      for await (const _ of plugin.dispense("fixture").count({ n: 3 })) {
        // no message arrives
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    await plugin.kill();
    const error = await stream;
    assert.ok(error instanceof PluginError, String(error));
    assert.equal(error.code, "CLIENT_CLOSED");
    assert.equal(processAlive(pid), false);
    assert.deepEqual(readdirSync(root), []);
  });
});
