// The broker between a TypeScript host and a TypeScript plugin: callbacks both ways, byte streams
// both ways, and its failure modes.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import {
  digestOf,
  hashingSink,
  patternDigest,
  patternSource,
} from "../../test/fixtures/byte-source.ts";
import { fixtureService } from "../../test/fixtures/fixture-service.ts";
import { Fixture } from "../../test/fixtures/gen/fixture_pb.js";
import { PingPong } from "../../test/fixtures/gen/grpctest_pb.js";
import { startFixture, waitFor } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { implement } from "../rpc/core/types.ts";
import { inProcessClient } from "../testing/index.ts";

describe("broker (TS host ↔ TS plugin)", () => {
  for (const autoMtls of [false, true]) {
    for (const network of ["unix", "tcp"] as const) {
      it(`TestGRPC_App bidirectional: host and plugin call each other (${network}, ${autoMtls ? "AutoMTLS" : "plain"})`, async () => {
        await using plugin = await startFixture("test-grpc", { autoMtls, network });
        let pinged = 0;
        const served = await plugin.broker.serve(
          implement(PingPong, {
            ping: () => {
              pinged++;
              return { msg: "pong" };
            },
          }),
        );
        const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
        assert.equal(pinged, 1);
        const back = await plugin.broker.client(id, PingPong);
        assert.equal((await back.ping({})).msg, "pong");
      });
    }
  }

  for (const fastWire of [true, false]) {
    it(`brokers over the main connection's wire (${fastWire ? "fast wire" : "gRPC"}), callbacks both ways`, async () => {
      await using plugin = await startFixture("test-grpc", { fastWire });
      const wires: unknown[] = [];
      const onCall = (message: unknown) => {
        const call = message as { path: string; wire: string };
        if (call.path === "/grpctest.PingPong/Ping") wires.push(call.wire);
      };
      subscribe("plugwire:call:start", onCall);
      try {
        const served = await plugin.broker.serve(
          implement(PingPong, { ping: () => ({ msg: "pong" }) }),
        );
        // The plugin dials the host's brokered server, then the host dials the plugin's.
        const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
        const back = await plugin.broker.client(id, PingPong);
        assert.equal((await back.ping({})).msg, "pong");
      } finally {
        unsubscribe("plugwire:call:start", onCall);
      }
      assert.deepEqual(wires, [fastWire ? "fast" : "grpc"]);
    });
  }

  it("dialing an id nobody serves fails after go-plugin's 5 s with DEADLINE_EXCEEDED", async () => {
    await using plugin = await startFixture("test-grpc");
    await assert.rejects(plugin.broker.dial(4242, { timeoutMs: 300 }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "DEADLINE_EXCEEDED" &&
        /broker id 4242/.test(e.message)
      );
    });
  });

  it("a callback that throws fails the plugin's call, and its status comes back to the host", async () => {
    await using plugin = await startFixture("test-grpc");
    const served = await plugin.broker.serve(
      implement(PingPong, {
        ping: () => {
          throw new PluginError("FAILED_PRECONDITION", "the host refuses");
        },
      }),
    );
    await assert.rejects(plugin.dispense("test").bidirectional({ id: served.id }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        e.code === "FAILED_PRECONDITION" &&
        /the host refuses/.test(e.message)
      );
    });
  });

  it("brokered servers and connections close with the plugin", async () => {
    const plugin = await startFixture("test-grpc");
    const served = await plugin.broker.serve(
      implement(PingPong, { ping: () => ({ msg: "pong" }) }),
    );
    const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
    const back = await plugin.broker.client(id, PingPong);
    await plugin.kill();
    await assert.rejects(back.ping({}), (e: unknown) => e instanceof PluginError);
    await assert.rejects(
      plugin.broker.serve(implement(PingPong, { ping: () => ({ msg: "x" }) })),
      (e: unknown) => {
        return e instanceof PluginError;
      },
    );
  });
});

describe("cancellation and deadlines through callbacks", () => {
  it("aborting the host's call cancels the plugin's handler and the callback it is making into the host", async () => {
    await using plugin = await startFixture("test-grpc");
    const hostSide = fixtureService();
    // Abort only once the plugin's callback has reached the host's Sleep: aborting earlier would
    // cancel the plugin's handler before it calls back, and no callback would see the cancel.
    const callbackStarted = Promise.withResolvers<void>();
    const served = await plugin.broker.serve(
      implement(Fixture, {
        ...hostSide.impl,
        sleep: (request, context) => {
          callbackStarted.resolve();
          return hostSide.impl.sleep(request, context);
        },
      }),
    );
    await using counters = inProcessClient(Fixture, hostSide.impl);
    const hostClient = counters.client;
    const controller = new AbortController();
    const call = assert.rejects(
      plugin
        .dispense("fixture")
        .callBack({ brokerId: served.id, durationMs: 30_000 }, { signal: controller.signal }),
      (e: unknown) => e instanceof PluginError && e.code === "CANCELLED",
    );
    await callbackStarted.promise;
    controller.abort();
    await call;
    await waitFor(
      async () => (await hostClient.cancelled({})).cancelled === 1,
      5000,
      "the host's callback handler to be cancelled",
    );
  });

  it("a brokered server served with a signal ends when it aborts: its running handlers see the abort", async () => {
    await using plugin = await startFixture("test-grpc");
    const hostSide = fixtureService();
    const callbackStarted = Promise.withResolvers<void>();
    const handlerAborted = Promise.withResolvers<unknown>();
    const serving = new AbortController();
    const served = await plugin.broker.serve(
      implement(Fixture, {
        ...hostSide.impl,
        sleep: (request, context) => {
          context.signal.addEventListener("abort", () =>
            handlerAborted.resolve(context.signal.reason),
          );
          callbackStarted.resolve();
          return hostSide.impl.sleep(request, context);
        },
      }),
      { signal: serving.signal },
    );
    const call = plugin.dispense("fixture").callBack({ brokerId: served.id, durationMs: 30_000 });
    await callbackStarted.promise;
    serving.abort();
    const reason = await handlerAborted.promise;
    assert.ok(reason instanceof PluginError && reason.code === "CANCELLED", String(reason));
    // The plugin's call through the closed brokered server fails rather than hang.
    await assert.rejects(call, (e: unknown) => e instanceof PluginError);
  });

  it("the broker's serve methods refuse an already-aborted signal with CANCELLED", async () => {
    await using plugin = await startFixture("test-grpc");
    const signal = AbortSignal.abort(new Error("not now"));
    const cancelled = (e: unknown) => e instanceof PluginError && e.code === "CANCELLED";
    await assert.rejects(plugin.broker.serve(fixtureService(), { signal }), cancelled);
    await assert.rejects(plugin.broker.serveReadable(patternSource(10), { signal }), cancelled);
    await assert.rejects(plugin.broker.serveWritable(hashingSink().sink, { signal }), cancelled);
  });

  it("the host's deadline reaches the callback the plugin makes into the host", async () => {
    await using plugin = await startFixture("test-grpc");
    const hostSide = fixtureService();
    const served = await plugin.broker.serve(hostSide);
    const reply = await plugin
      .dispense("fixture")
      .callBack({ brokerId: served.id, durationMs: 1 }, { timeoutMs: 3000 });
    assert.ok(
      reply.deadlineRemainingMs > 1500 && reply.deadlineRemainingMs <= 3000,
      String(reply.deadlineRemainingMs),
    );
    await assert.rejects(
      plugin
        .dispense("fixture")
        .callBack({ brokerId: served.id, durationMs: 30_000 }, { timeoutMs: 300 }),
      (e: unknown) => e instanceof PluginError && e.code === "DEADLINE_EXCEEDED",
    );
  });
});

describe("byte streams through the broker", () => {
  const size = 64 * 1024 * 1024 + 12_345;
  for (const autoMtls of [false, true]) {
    const mode = autoMtls ? "AutoMTLS" : "plain";
    it(`host → plugin: a Readable handed to the plugin arrives whole (${mode})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls });
      const id = await plugin.broker.serveReadable(patternSource(size));
      const result = await plugin.dispense("fixture").digest({ brokerId: id });
      assert.equal(result.bytes, BigInt(size));
      assert.equal(result.sha256, patternDigest(size));
    });

    it(`plugin → host: the plugin writes into a Writable the host handed over (${mode})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls });
      const { sink, done } = hashingSink();
      const id = await plugin.broker.serveWritable(sink);
      const result = await plugin
        .dispense("fixture")
        .produce({ brokerId: id, bytes: BigInt(size) });
      const received = await done;
      assert.equal(received.bytes, size);
      assert.equal(received.sha256, result.sha256);
    });

    it(`plugin → host: the host reads a Readable the plugin serves (${mode})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls });
      const offer = await plugin.dispense("fixture").source({ bytes: BigInt(size) });
      const received = await digestOf(await plugin.broker.dialReadable(offer.brokerId));
      assert.equal(received.bytes, size);
      assert.equal(received.sha256, offer.sha256);
    });
  }

  it("a host that stops reading early fails the plugin's write, and the plugin lives on", async () => {
    await using plugin = await startFixture("test-grpc");
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        // Stop after 4 MiB: the host's end of the brokered connection is destroyed.
        callback(received > 4 * 1024 * 1024 ? new Error("enough") : null);
      },
    });
    const id = await plugin.broker.serveWritable(sink);
    // The plugin's pipeline into the dialled Writable rejects (the reader went away), so its
    // handler fails with a status, where an uncaught EPIPE would have killed the plugin.
    await assert.rejects(
      plugin.dispense("fixture").produce({ brokerId: id, bytes: BigInt(1024 * 1024 * 1024) }),
      (error: unknown) => error instanceof PluginError && error.code !== "PLUGIN_EXITED",
    );
    assert.equal(plugin.state.t, "running");
    const again = await plugin.dispense("fixture").source({ bytes: 1024n });
    assert.equal(again.bytes, 1024n);
  });

  it("the reader sees an error, not a silent truncation, when the plugin dies mid-stream", async () => {
    const plugin = await startFixture("test-grpc");
    const offer = await plugin.dispense("fixture").source({ bytes: BigInt(1024 * 1024 * 1024) });
    const readable = await plugin.broker.dialReadable(offer.brokerId);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of readable) {
        received += (chunk as Buffer).length;
        if (received > 8 * 1024 * 1024 && plugin.state.t === "running")
          process.kill(plugin.pid, "SIGKILL");
      }
    })();
    await assert.rejects(reading);
    assert.ok(received < 1024 * 1024 * 1024);
    await plugin.exited;
  });
});

describe("streaming RPCs through brokered connections", () => {
  for (const autoMtls of [false, true]) {
    it(`server, client and bidi streams work on a brokered service (${autoMtls ? "AutoMTLS" : "plain"})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls });
      const { brokerId } = await plugin.dispense("fixture").brokered({});
      const brokered = await plugin.broker.client(brokerId, Fixture);
      const counted: number[] = [];
      for await (const r of brokered.count({ n: 50 })) counted.push(r.i);
      assert.equal(counted.length, 50);
      async function* values() {
        for (let i = 1n; i <= 100n; i++) yield { value: i };
      }
      assert.equal((await brokered.sum(values())).total, 5050n);
      async function* payloads() {
        for (let i = 0; i < 20; i++) yield { payload: Buffer.alloc(100_000, i) };
      }
      let echoed = 0;
      for await (const r of brokered.echoStream(payloads())) echoed += r.payload.length;
      assert.equal(echoed, 2_000_000);
    });
  }
});

describe("multiplexed broker (PLUGIN_MULTIPLEX_GRPC, yamux)", () => {
  for (const autoMtls of [false, true]) {
    const mode = autoMtls ? "AutoMTLS" : "plain";
    it(`TestGRPC_App (mux): calls, callbacks both ways and byte streams over one connection (${mode})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls, multiplex: true });
      assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
      const served = await plugin.broker.serve(
        implement(PingPong, { ping: () => ({ msg: "pong" }) }),
      );
      const { id } = await plugin.dispense("test").bidirectional({ id: served.id });
      assert.equal((await (await plugin.broker.client(id, PingPong)).ping({})).msg, "pong");
      const size = 8 * 1024 * 1024 + 1;
      const source = await plugin.broker.serveReadable(patternSource(size));
      assert.equal(
        (await plugin.dispense("fixture").digest({ brokerId: source })).sha256,
        patternDigest(size),
      );
      const { sink, done } = hashingSink();
      const sinkId = await plugin.broker.serveWritable(sink);
      const produced = await plugin
        .dispense("fixture")
        .produce({ brokerId: sinkId, bytes: BigInt(size) });
      assert.equal((await done).sha256, produced.sha256);
    });

    it(`TestGRPCC_Stream (mux): streams on the main and on brokered connections (${mode})`, async () => {
      await using plugin = await startFixture("test-grpc", { autoMtls, multiplex: true });
      async function* ints() {
        for (let i = 21; i < 27; i++) yield { Input: i };
      }
      const echoed: number[] = [];
      for await (const r of plugin.dispense("test").stream(ints())) echoed.push(r.Output);
      assert.deepEqual(echoed, [21, 22, 23, 24, 25, 26]);
      const { brokerId } = await plugin.dispense("fixture").brokered({});
      const brokered = await plugin.broker.client(brokerId, Fixture);
      const counted: number[] = [];
      for await (const r of brokered.count({ n: 10 })) counted.push(r.i);
      assert.equal(counted.length, 10);
    });
  }

  it("a knock for an id nobody serves is refused with go-plugin's error", async () => {
    await using plugin = await startFixture("test-grpc", { multiplex: true });
    await assert.rejects(plugin.broker.dial(77, { timeoutMs: 2000 }), (e: unknown) => {
      return (
        e instanceof PluginError &&
        /timeout waiting for multiplexing knock handshake on id 77|no listener for id 77/.test(
          e.message,
        )
      );
    });
  });
});
