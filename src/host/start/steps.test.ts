// One step (the start deadline and the caller's signal) reaches every part of a start: an aborted
// start does nothing, an abort while the plugin is starting kills it and leaves nothing behind,
// and a start that succeeds is published once on `plugwire:start`.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openFds, running } from "../../../test/fixtures/hostile/leftovers.ts";
import {
  startFixture,
  testHandshake,
  testPlugins,
  waitFor,
} from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { StartMessage } from "../../internal/diagnostics.ts";
import { attachPlugin, startPlugin } from "./start.ts";

// Every private socket directory of this file's starts goes under `root`: "no socket directory
// left" is `root` holding none.
const root = mkdtempSync(join(tmpdir(), "pw-steps-"));
process.env.TMPDIR = root;
after(() => rmSync(root, { recursive: true, force: true }));
const socketDirs = () => readdirSync(root).filter((name) => name.startsWith("plugwire-"));

/**
 * A plugin that writes its pid to $MARKER the moment it runs, then hangs before any handshake.
 * Its marker existing proves a process was started; its pid tells which one to check.
 */
function markerPlugin(): { cmd: string; marker: string } {
  const dir = mkdtempSync(join(root, "marker-"));
  const cmd = join(dir, "marker-plugin");
  writeFileSync(cmd, '#!/bin/sh\necho "$$" > "$MARKER"\nexec sleep 600\n');
  chmodSync(cmd, 0o755);
  return { cmd, marker: join(dir, "started") };
}

function startMarker(plugin: { cmd: string; marker: string }, signal: AbortSignal) {
  return startPlugin({
    cmd: plugin.cmd,
    handshake: testHandshake,
    env: { MARKER: plugin.marker },
    startTimeoutMs: 20_000,
    signal,
  });
}

async function rejection(start: Promise<unknown>): Promise<PluginError> {
  const caught = await start.then(
    () => new Error("the start succeeded"),
    (error: unknown) => error,
  );
  assert.ok(caught instanceof PluginError, `expected a PluginError, got ${String(caught)}`);
  return caught;
}

describe("a start's signal", () => {
  it("an already-aborted signal fails at once with CANCELLED: no process, no socket directory", async () => {
    const plugin = markerPlugin();
    const reason = new Error("the user gave up");
    const fdsBefore = openFds();
    const error = await rejection(startMarker(plugin, AbortSignal.abort(reason)));
    assert.equal(error.code, "CANCELLED");
    assert.equal(error.cause, reason);
    assert.match(
      error.message,
      /^\[CANCELLED\] plugin marker-plugin: start was cancelled: the user gave up/,
    );
    assert.equal(error.details.pid, undefined, "no process was started");
    assert.deepEqual(socketDirs(), []);
    assert.ok(openFds() <= fdsBefore, "no fd was opened");
    // The same plugin, started for real, leaves its marker: its absence above means it never ran.
    const controller = new AbortController();
    const start = rejection(startMarker(plugin, controller.signal));
    await waitFor(() => existsSync(plugin.marker), 20_000, "the plugin to run");
    controller.abort();
    assert.equal((await start).code, "CANCELLED");
  });

  it("an already-aborted signal skips the checksum and the AutoMTLS key too", async () => {
    const error = await rejection(
      startFixture("test-grpc", {
        secure: { checksum: "00".repeat(32) }, // would be CHECKSUM_MISMATCH if it were hashed
        signal: AbortSignal.abort(),
      }),
    );
    assert.equal(error.code, "CANCELLED");
    assert.deepEqual(socketDirs(), []);
  });

  it("an abort while the plugin has not printed its handshake kills it and removes its socket directory", async () => {
    const plugin = markerPlugin();
    const controller = new AbortController();
    const start = rejection(startMarker(plugin, controller.signal));
    await waitFor(
      () => existsSync(plugin.marker) && readFileSync(plugin.marker, "utf8").endsWith("\n"),
      20_000,
      "the plugin to run",
    );
    const pid = Number(readFileSync(plugin.marker, "utf8"));
    assert.ok(running(pid));
    const reason = new Error("shutting down");
    controller.abort(reason);
    const error = await start;
    assert.equal(error.code, "CANCELLED");
    assert.equal(error.cause, reason);
    assert.match(error.message, /start was cancelled before the plugin's handshake/);
    assert.equal(error.details.pid, pid);
    assert.equal(running(pid), false, "the plugin was killed");
    assert.deepEqual(socketDirs(), [], "its socket directory was removed");
  });
});

describe("plugwire:start", () => {
  /** Runs `body` while collecting what `plugwire:start` publishes. */
  async function published(body: () => Promise<void>): Promise<StartMessage[]> {
    const messages: StartMessage[] = [];
    const onMessage = (message: unknown) => messages.push(message as StartMessage);
    subscribe("plugwire:start", onMessage);
    try {
      await body();
    } finally {
      unsubscribe("plugwire:start", onMessage);
    }
    return messages;
  }

  it("is published once per start, with the negotiated wire, and once per attach", async () => {
    let pids: number[] = [];
    let wires: string[] = [];
    let addresses: string[] = [];
    const messages = await published(async () => {
      await using fast = await startFixture("test-grpc");
      await using grpc = await startFixture("test-grpc", { fastWire: false, autoMtls: false });
      const attached = await attachPlugin({
        reattach: grpc.reattachConfig(),
        plugins: testPlugins,
        name: "attached",
        managed: false,
      });
      pids = [fast.pid, grpc.pid, attached.pid];
      wires = [fast.wire, grpc.wire, attached.wire];
      addresses = [fast.address, grpc.address, attached.address];
      await attached.kill();
    });
    assert.deepEqual(
      messages.map(({ plugin, pid, wire, address }) => ({ plugin, pid, wire, address })),
      [
        { plugin: "fixture-plugin", pid: pids[0], wire: "fast", address: addresses[0] },
        { plugin: "fixture-plugin", pid: pids[1], wire: "grpc", address: addresses[1] },
        { plugin: "attached", pid: pids[2], wire: "grpc", address: addresses[2] },
      ],
    );
    assert.deepEqual(wires, ["fast", "grpc", "grpc"]);
    for (const { durationMs } of messages) assert.ok(durationMs > 0 && Number.isFinite(durationMs));
  });

  it("is not published for a start that fails", async () => {
    const messages = await published(async () => {
      await assert.rejects(startFixture("exit-early"));
    });
    assert.deepEqual(messages, []);
  });
});
