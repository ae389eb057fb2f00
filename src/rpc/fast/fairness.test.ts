// A stream whose messages come without waiting (an async generator that never awaits anything
// slow) must not hold the event loop for a whole credit window: its connection yields a turn
// every `turnBudgetBytes`, so queued frames are written and what arrived (credit, pings, other
// calls) is read. Measured in messages produced before a `setImmediate` scheduled at the start
// gets to run: without the budget that was the whole 1 MiB window (~300 k small messages).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { createClient } from "../core/client.ts";
import { implement } from "../core/types.ts";
import { RpcServer } from "../grpc/server.ts";
import { FastChannel } from "./channel.ts";
import { turnBudgetBytes } from "./flow.ts";
import { fastWirePreface } from "./frames.ts";
import { FastServerConnection } from "./server.ts";

/** The smallest message either test sends is 2 bytes, so this many fit in one turn's budget. */
const perTurn = turnBudgetBytes / 2 + 1;

describe("fast wire: a stream that never waits leaves the event loop turns", () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-fair-"));
  const path = join(dir, "s");
  let producedBeforeTurn: number | undefined;
  const rpc = new RpcServer().register(
    implement(Fixture, {
      ...fixtureService().impl,
      async *count(request) {
        producedBeforeTurn = undefined;
        let produced = 0;
        setImmediate(() => {
          producedBeforeTurn = produced;
        });
        for (let i = 1; i <= request.n; i++) {
          produced++;
          yield { i };
        }
      },
    }),
  );
  const connections = new Set<FastServerConnection>();
  let server: Server;
  const channel = new FastChannel({ connect: () => connect(path) });
  const client = createClient(Fixture, channel);

  before(async () => {
    server = createServer((socket) => {
      socket.once("data", (first: Buffer) => {
        const rest = first.subarray(fastWirePreface.byteLength);
        connections.add(new FastServerConnection(rpc, socket, rest));
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });
  after(async () => {
    channel.close();
    await Promise.all([...connections].map((connection) => connection.close(100)));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("server stream: the handler yields a turn within its budget", async () => {
    let received = 0;
    for await (const message of client.count({ n: 1_000_000_000 })) {
      assert.equal(message.i, received + 1);
      if (++received === 80_000) break;
    }
    assert.ok(producedBeforeTurn !== undefined, "the event loop never got a turn");
    assert.ok(
      producedBeforeTurn <= perTurn,
      `${producedBeforeTurn} messages were produced before the event loop got a turn (budget ${perTurn})`,
    );
  });

  it("client stream: the caller's generator yields a turn within its budget", async () => {
    let produced = 0;
    let before: number | undefined;
    setImmediate(() => {
      before = produced;
    });
    async function* requests() {
      for (let i = 0; i < 80_000; i++) {
        produced++;
        yield { value: 1n };
      }
    }
    const result = await client.sum(requests());
    assert.equal(result.count, 80_000);
    assert.ok(before !== undefined && before <= perTurn, `${before} sent before a turn`);
  });
});
