// Issue 14, defect 4 (host side): a session that stops answering — the peer ended it and the
// host never learnt of it, or it stopped reading — is abandoned, and calls go to a new one.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttp2Server } from "node:http2";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { PluginError } from "../../errors/plugin-error.ts";
import { createClient } from "../core/client.ts";
import { RpcChannel } from "./channel.ts";
import { RpcServer } from "./server.ts";

describe("RpcChannel and a session that stopped answering (issue 14, defect 4)", () => {
  it("pings after a call times out, abandons the silent session, and serves the next call on a new one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-stuck-"));
    const path = join(dir, "s");
    const http2 = createHttp2Server();
    new RpcServer().register(fixtureService()).attach(http2);
    const sockets: Socket[] = [];
    // The first connection is accepted and never read from or answered: a wedged session.
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      if (sockets.length === 1) socket.pause();
      else http2.emit("connection", socket);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const channel = new RpcChannel({ connect: () => connect(path), pingTimeoutMs: 300 });
    try {
      const fixture = createClient(Fixture, channel);
      await assert.rejects(
        fixture.sleep({ durationMs: 0 }, { timeoutMs: 100 }),
        (error: unknown) => error instanceof PluginError && error.code === "DEADLINE_EXCEEDED",
      );
      const payload = new TextEncoder().encode("fresh session");
      // Calls made while the silent session is still current fail UNAVAILABLE when it is
      // abandoned; the first after that answers.
      let answer: { payload: Uint8Array } | undefined;
      const deadline = Date.now() + 10_000;
      while (answer === undefined && Date.now() < deadline) {
        answer = await fixture.echo({ payload }, { timeoutMs: 5000 }).catch((error: unknown) => {
          assert.ok(error instanceof PluginError && error.code === "UNAVAILABLE", String(error));
          return undefined;
        });
      }
      assert.equal(Buffer.from(answer!.payload).toString(), "fresh session");
      assert.equal(sockets.length, 2, "one new connection");
    } finally {
      channel.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      http2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
