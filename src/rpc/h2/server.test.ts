import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { createClient } from "../core/client.ts";
import { RpcServer } from "../grpc/server.ts";
import { H2Channel } from "./client.ts";
import { createH2Listener } from "./listener.ts";

describe("plugwire's HTTP/2 server", () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-h2s-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves a connection handed over paused, its first bytes unshifted (as the dual listener does)", async () => {
    const listener = createH2Listener(new RpcServer().register(fixtureService()), undefined);
    const front = createServer((socket: Socket) => {
      socket.once("data", (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        listener.server.emit("connection", socket);
      });
    });
    const path = join(dir, "handed");
    await new Promise<void>((resolve) => front.listen(path, resolve));
    const channel = new H2Channel({ connect: () => connect(path) });
    try {
      const reply = await createClient(Fixture, channel).echo({ payload: Buffer.from("h2") });
      assert.equal(Buffer.from(reply.payload).toString(), "h2");
    } finally {
      channel.close();
      await listener.close(100);
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  });
});
