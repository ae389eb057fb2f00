// An address that never answers (a stopped plugin's full accept queue): the attach probe and the
// start's connection check end at their deadline or at the caller's signal, with their own codes,
// and close what they opened.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { openFds } from "../../../test/fixtures/hostile/leftovers.ts";
import { testHandshake, waitFor } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { startStep } from "../../internal/step.ts";
import { connectChannel } from "../../transport/dial.ts";
import { connectionCheck } from "./check.ts";
import { resolveStart, startTimeout } from "./config.ts";
import type { ReattachConfig } from "./reattach.ts";
import { attachPlugin } from "./start.ts";

const reattachAt = (network: "unix" | "tcp", address: string): ReattachConfig => ({
  protocol: "grpc",
  protocolVersion: 1,
  pid: 999_999,
  test: true,
  addr: { network, address },
});

async function rejection(attach: Promise<unknown>): Promise<PluginError> {
  const caught = await attach.then(
    () => new Error("the attach succeeded"),
    (error: unknown) => error,
  );
  assert.ok(caught instanceof PluginError, `expected a PluginError, got ${String(caught)}`);
  return caught;
}

/**
 * A TCP address that accepts no connection and never refuses one: a listener (backlog 1) in a
 * process stopped by SIGSTOP, whose accept queue two connections fill. Linux drops the SYN of any
 * further connection, so its connect waits, deterministically, until it is given up.
 */
class SwampedListener {
  #child: ChildProcess | undefined;
  readonly #fillers: Socket[] = [];
  port = 0;

  async open(): Promise<void> {
    const script =
      "const s = require('node:net').createServer();" +
      "s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {" +
      "  process.stdout.write(s.address().port + '\\n');" +
      "  process.kill(process.pid, 'SIGSTOP');" +
      "});";
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    this.#child = child;
    let output = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      output += chunk;
    });
    await waitFor(
      () => output.endsWith("\n") && state(child.pid!) === "T",
      20_000,
      "the stopped listener",
    );
    this.port = Number(output);
    // The accept queue holds backlog + 1 connections: fill it.
    for (let i = 0; i < 2; i++) {
      const socket = connect(this.port, "127.0.0.1");
      this.#fillers.push(socket);
      await once(socket, "connect");
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#fillers) socket.destroy();
    if (
      this.#child !== undefined &&
      this.#child.exitCode === null &&
      this.#child.signalCode === null
    ) {
      const exited = once(this.#child, "exit");
      this.#child.kill("SIGKILL");
      await exited;
    }
  }
}

/** A process's state letter from /proc (`T` when stopped). */
function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

describe("attaching: the probe's bounds", () => {
  const swamped = new SwampedListener();
  before(() => swamped.open());
  after(() => swamped.close());

  it("an address that never accepts fails after attachTimeoutMs with REATTACH_NOT_FOUND, its socket closed", async () => {
    const fdsBefore = openFds();
    const error = await rejection(
      attachPlugin({
        reattach: reattachAt("tcp", `127.0.0.1:${swamped.port}`),
        name: "swamped",
        attachTimeoutMs: 200,
      }),
    );
    assert.equal(error.code, "REATTACH_NOT_FOUND");
    assert.match(
      error.message,
      new RegExp(
        `^\\[REATTACH_NOT_FOUND\\] plugin swamped: .*nothing accepted a connection at tcp:127\\.0\\.0\\.1:${swamped.port} within 200 ms`,
      ),
    );
    await waitFor(() => openFds() <= fdsBefore, 5000, "the probe's socket to be closed");
  });

  it("an abort while the probe waits is CANCELLED with the caller's reason", async () => {
    const fdsBefore = openFds();
    const controller = new AbortController();
    const attach = rejection(
      attachPlugin({
        reattach: reattachAt("tcp", `127.0.0.1:${swamped.port}`),
        name: "swamped",
        signal: controller.signal,
      }),
    );
    const reason = new Error("the host is shutting down");
    // The connect can never complete (see SwampedListener), so whenever this abort lands, the
    // probe is still waiting.
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    const error = await attach;
    assert.equal(error.code, "CANCELLED");
    assert.equal(error.cause, reason);
    assert.match(error.message, /plugin swamped: attach was cancelled: the host is shutting down/);
    await waitFor(() => openFds() <= fdsBefore, 5000, "the probe's socket to be closed");
  });

  it("an already-aborted signal fails before anything is dialled", async () => {
    const fdsBefore = openFds();
    const error = await rejection(
      attachPlugin({
        reattach: reattachAt("tcp", `127.0.0.1:${swamped.port}`),
        signal: AbortSignal.abort(),
      }),
    );
    assert.equal(error.code, "CANCELLED");
    assert.ok(openFds() <= fdsBefore, "no socket was opened");
  });

  it("a bad attachTimeoutMs is a TypeError", async () => {
    await assert.rejects(
      attachPlugin({ reattach: reattachAt("unix", "/tmp/x"), attachTimeoutMs: -1 }),
      TypeError,
    );
  });
});

describe("the start's connection check: an address that never answers", () => {
  const swamped = new SwampedListener();
  before(() => swamped.open());
  after(() => swamped.close());
  const config = resolveStart({ cmd: "/bin/kv", handshake: testHandshake, startTimeoutMs: 300 });
  const channel = () => connectChannel({ network: "tcp", address: `127.0.0.1:${swamped.port}` });
  const running = new Promise<never>(() => {}); // a plugin that does not exit

  it("the start deadline ends it with HANDSHAKE_TIMEOUT, the check's failure as cause", async () => {
    using step = startStep(config.startTimeoutMs, undefined, () => startTimeout(config));
    const checked = channel();
    try {
      const error = await connectionCheck(checked, false, running, step).then(
        () => new Error("the check passed"),
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof PluginError, String(error));
      assert.equal(error.code, "HANDSHAKE_TIMEOUT");
      assert.match(
        error.message,
        /timeout while waiting for plugin to start \(300 ms\): the plugin printed its handshake but did not answer the connection check/,
      );
      assert.ok(error.cause instanceof PluginError);
    } finally {
      checked.close();
    }
  });

  it("the caller's abort ends it with CANCELLED", async () => {
    const controller = new AbortController();
    using step = startStep(60_000, controller.signal, () => startTimeout(config));
    const checked = channel();
    try {
      const check = connectionCheck(checked, false, running, step).then(
        () => new Error("the check passed"),
        (failure: unknown) => failure,
      );
      const reason = new Error("host stopping");
      controller.abort(reason);
      const error = await check;
      assert.ok(error instanceof PluginError, String(error));
      assert.equal(error.code, "CANCELLED");
      assert.equal(error.cause, reason);
      assert.match(error.message, /start was cancelled during the connection check/);
    } finally {
      checked.close();
    }
  });
});
