// The client's channel explains the errors of every call kind alike (one interceptor): they name
// the plugin, and calls to a plugin that died fail with PLUGIN_EXITED.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Fixture } from "../../../test/fixtures/gen/fixture_pb.js";
import { startFixture } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createClient } from "../../rpc/core/client.ts";
import { channelOf, intercept, streamsResponses } from "../../rpc/core/interceptors.ts";
import { explainErrors } from "./explain-errors.ts";

const named = (code: string) => (e: unknown) =>
  e instanceof PluginError && e.code === code && e.plugin === "fixture-plugin";

/** Reads `stream` to its end or its error. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

describe("error explanation", () => {
  it("the errors of all four call kinds name the plugin", async () => {
    await using plugin = await startFixture("test-grpc");
    const fixture = plugin.dispense("fixture");
    const signal = AbortSignal.abort(new Error("given up"));
    async function* sums() {
      yield { value: 1n };
    }
    async function* echoes() {
      yield { payload: new Uint8Array([1]) };
    }
    await assert.rejects(fixture.sleep({ durationMs: 30_000 }, { signal }), named("CANCELLED"));
    await assert.rejects(drain(fixture.count({ n: 3 }, { signal })), named("CANCELLED"));
    await assert.rejects(fixture.sum(sums(), { signal }), named("CANCELLED"));
    await assert.rejects(drain(fixture.echoStream(echoes(), { signal })), named("CANCELLED"));
  });

  it("calls of all four kinds, in flight when the plugin crashes or made after, fail with PLUGIN_EXITED", async () => {
    const plugin = await startFixture("test-grpc");
    const fixture = plugin.dispense("fixture");
    const end = Promise.withResolvers<void>();
    async function* sums() {
      yield { value: 1n };
      await end.promise;
    }
    async function* echoes() {
      yield { payload: new Uint8Array([1]) };
      await end.promise;
    }
    try {
      const unary = fixture.sleep({ durationMs: 30_000 });
      const clientStream = fixture.sum(sums());
      // Health/Watch answers once and stays open: a server stream in flight.
      const watched = plugin.client(Health).watch({ service: "plugin" })[Symbol.asyncIterator]();
      const echoed = fixture.echoStream(echoes())[Symbol.asyncIterator]();
      assert.equal((await watched.next()).done, false, "the server stream is open");
      assert.equal((await echoed.next()).done, false, "the bidi stream is open");
      await plugin.ping(); // sent after the calls on the same connection: they reached the plugin
      process.kill(plugin.pid, "SIGKILL");
      await assert.rejects(unary, named("PLUGIN_EXITED"));
      await assert.rejects(clientStream, named("PLUGIN_EXITED"));
      await assert.rejects(
        drain({ [Symbol.asyncIterator]: () => watched }),
        named("PLUGIN_EXITED"),
      );
      await assert.rejects(drain({ [Symbol.asyncIterator]: () => echoed }), named("PLUGIN_EXITED"));
      await plugin.exited;
      // And to the plugin that is gone: a streaming call gets the explained error too.
      await assert.rejects(fixture.sleep({ durationMs: 1 }), named("PLUGIN_EXITED"));
      await assert.rejects(drain(fixture.count({ n: 1 })), named("PLUGIN_EXITED"));
      await assert.rejects(fixture.sum(sums()), named("PLUGIN_EXITED"));
      await assert.rejects(drain(fixture.echoStream(echoes())), named("PLUGIN_EXITED"));
    } finally {
      end.resolve();
    }
  });
});

describe("explainErrors", () => {
  // A connection reset the socket reported a moment before the exit was seen: each call kind
  // waits for the exit and reports it, with the exit status.
  it("turns UNAVAILABLE into PLUGIN_EXITED for all four call kinds once the process has exited", async () => {
    const reset = () => new PluginError("UNAVAILABLE", "connection reset");
    const failing = channelOf(
      ({ method }) =>
        streamsResponses(method)
          ? (async function* () {
              yield* [];
              throw reset();
            })()
          : Promise.reject(reset()),
      { closed: false, close: () => {} },
    );
    const exited = Promise.resolve({ code: null, signal: "SIGKILL" as const, forced: false });
    const fixture = createClient(
      Fixture,
      intercept(failing, explainErrors({ name: "kv", launched: true, exited })),
    );
    const explained = (e: unknown) =>
      e instanceof PluginError &&
      e.code === "PLUGIN_EXITED" &&
      e.plugin === "kv" &&
      /exited \(signal SIGKILL\) during the call/.test(e.message) &&
      e.cause instanceof PluginError &&
      e.cause.code === "UNAVAILABLE";
    async function* none() {}
    await assert.rejects(fixture.sleep({}), explained);
    await assert.rejects(drain(fixture.count({})), explained);
    await assert.rejects(fixture.sum(none()), explained);
    await assert.rejects(drain(fixture.echoStream(none())), explained);
  });

  it("leaves UNAVAILABLE as it is for an attached plugin (its exit is polled, too late to tell)", async () => {
    const failing = channelOf(() => Promise.reject(new PluginError("UNAVAILABLE", "reset")), {
      closed: false,
      close: () => {},
    });
    const exited = Promise.resolve({ code: null, signal: null, forced: false });
    const fixture = createClient(
      Fixture,
      intercept(failing, explainErrors({ name: "kv", launched: false, exited })),
    );
    await assert.rejects(
      fixture.sleep({}),
      (e: unknown) => e instanceof PluginError && e.code === "UNAVAILABLE" && e.plugin === "kv",
    );
  });
});
