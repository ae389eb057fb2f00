import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { KV } from "../../examples/kv/gen/kv_pb.js";
import { PluginError } from "../../src/index.ts";
import { PluginRegistry } from "../../src/manager/index.ts";
import {
  inProcessClient,
  inProcessPlugin,
  startTestPlugin,
  waitForState,
} from "../../src/testing/index.ts";
import { PingPong } from "../fixtures/gen/grpctest_pb.js";
import { managerHandshake, providerFixture, waitFor } from "./support.ts";

describe("plugwire/testing", () => {
  it("runs an implementation in process behind the typed client, deadlines included", async () => {
    let sawAbort = false;
    const store = new Map<string, Uint8Array>();
    await using kv = inProcessClient(KV, {
      async get({ key }, { signal }) {
        if (key === "slow")
          await delay(5000, undefined, { signal }).catch(() => {
            sawAbort = true;
          });
        return { value: store.get(key) ?? new Uint8Array() };
      },
      put({ key, value }) {
        store.set(key, value);
        return {};
      },
    });
    await kv.client.put({ key: "a", value: new TextEncoder().encode("b") });
    const { value } = await kv.client.get({ key: "a" });
    assert.equal(new TextDecoder().decode(value), "b");
    await assert.rejects(kv.client.get({ key: "slow" }, { timeoutMs: 50 }), {
      code: "DEADLINE_EXCEEDED",
    });
    await waitFor(() => sawAbort, 2000, "the slow handler to see its call aborted");
    assert.equal(kv.connection.info.transport, "in-process");
  });

  it("registers an in-process mock provider plugin next to real ones", async () => {
    await using registry = new PluginRegistry();
    const mock = inProcessPlugin({
      id: "mock",
      version: "0.0.1",
      providers: {
        greet: {
          inputSchema: { type: "object", required: ["name"] },
          execute: ({ name }: { name: string }) => ({ greeting: `hello ${name}` }),
        },
      },
      services: [],
    });
    registry.add(mock);
    assert.deepEqual(await registry.callProvider("greet", { name: "ada" }), {
      greeting: "hello ada",
    });
    assert.equal(mock.manifest.version, "0.0.1");
    await assert.rejects(registry.callProvider("greet", {}), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "INVALID_ARGUMENT");
      return true;
    });
    await mock.stop();
    await waitForState(mock, "stopped");
  });

  it("starts a plugin script as a real process", async () => {
    await using plugin = await startTestPlugin(providerFixture, {
      args: ["providers"],
      handshake: managerHandshake,
    });
    const { msg } = await plugin.client(PingPong).ping({});
    assert.equal(msg, `pong from ${plugin.info.pid}`);
  });
});
