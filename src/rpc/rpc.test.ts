import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureService } from "../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../test/fixtures/gen/fixture_pb.js";
import { PluginError } from "../errors/plugin-error.ts";
import { RpcChannel } from "./channel.ts";
import { createClient } from "./client.ts";
import { RpcServer } from "./server.ts";

describe("gRPC over node:http2", () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-rpc-"));
  const socket = join(dir, "s");
  const server = createServer();
  const rpc = new RpcServer({ maxReceiveMessageBytes: 1024 * 1024 }).register(fixtureService());
  rpc.attach(server);
  const channel = new RpcChannel({
    connect: () => connect(socket),
    maxReceiveMessageBytes: 1024 * 1024,
  });
  const client = createClient(Fixture, channel);

  before(() => new Promise<void>((resolve) => server.listen(socket, resolve)));
  after(async () => {
    channel.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes unary calls", async () => {
    const payload = new Uint8Array([1, 2, 3]);
    const reply = await client.echo({ payload });
    assert.deepEqual([...reply.payload], [...payload]);
  });

  it("streams from the server, to the server, and both ways", async () => {
    const seen: number[] = [];
    for await (const r of client.count({ n: 5 })) seen.push(r.i);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);

    async function* values() {
      for (let i = 1n; i <= 10n; i++) yield { value: i };
    }
    const sum = await client.sum(values());
    assert.equal(sum.total, 55n);
    assert.equal(sum.count, 10);

    async function* payloads() {
      for (const b of ["a", "b", "c"]) yield { payload: Buffer.from(b) };
    }
    const echoed: string[] = [];
    for await (const r of client.echoStream(payloads()))
      echoed.push(Buffer.from(r.payload).toString());
    assert.deepEqual(echoed, ["a", "b", "c"]);
  });

  it("carries the deadline to the handler and fails with DEADLINE_EXCEEDED", async () => {
    const fast = await client.sleep({ durationMs: 1 }, { timeoutMs: 5000 });
    assert.ok(fast.deadlineRemainingMs > 4000 && fast.deadlineRemainingMs <= 5000);
    const before = (await client.cancelled({})).cancelled;
    await assert.rejects(client.sleep({ durationMs: 10_000 }, { timeoutMs: 100 }), (e: unknown) => {
      return e instanceof PluginError && e.code === "DEADLINE_EXCEEDED";
    });
    await waitFor(async () => (await client.cancelled({})).cancelled === before + 1);
  });

  it("cancels the handler when the caller aborts", async () => {
    const before = (await client.cancelled({})).cancelled;
    const controller = new AbortController();
    const call = client.sleep({ durationMs: 10_000 }, { signal: controller.signal });
    setImmediate(() => controller.abort(new Error("user gave up")));
    await assert.rejects(call, (e: unknown) => e instanceof PluginError && e.code === "CANCELLED");
    await waitFor(async () => (await client.cancelled({})).cancelled === before + 1);
  });

  it("rejects messages over the receive limit with RESOURCE_EXHAUSTED", async () => {
    await assert.rejects(
      client.echo({ payload: new Uint8Array(2 * 1024 * 1024) }),
      (e: unknown) => {
        return e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED";
      },
    );
    // The channel still works afterwards.
    assert.equal((await client.echo({ payload: new Uint8Array(10) })).payload.length, 10);
  });

  it("answers unknown methods with UNIMPLEMENTED", async () => {
    const { KV } = await import("../../examples/kv/gen/kv_pb.js");
    const kv = createClient(KV, channel);
    await assert.rejects(kv.get({ key: "x" }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "UNIMPLEMENTED" &&
        /unknown service proto.KV/.test(e.message)
      );
    });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
