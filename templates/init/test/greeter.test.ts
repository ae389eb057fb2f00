import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PluginError, startPlugin } from "plugwire";
import { inProcessClient } from "plugwire/testing";
import { Greeter } from "../src/gen/greeter/v1/greeter_pb.js";
import { greeter } from "../src/greeter.ts";
import { handshake } from "../src/handshake.ts";

test("greets in process, through the same client a plugin process gets", async () => {
  const kv = inProcessClient(Greeter, greeter);
  try {
    assert.equal((await kv.client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    await assert.rejects(kv.client.greet({ name: "" }), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.code, "INVALID_ARGUMENT");
      return true;
    });
  } finally {
    await kv.close();
  }
});

test("greets through a real plugin process", async () => {
  const plugin = await startPlugin({
    cmd: process.execPath,
    args: [fileURLToPath(new URL("../src/plugin.ts", import.meta.url))],
    handshake,
    plugins: { greeter: Greeter },
  });
  try {
    const client = plugin.dispense("greeter");
    assert.equal((await client.greet({ name: "Grace" })).greeting, "Hello, Grace!");
    const all: string[] = [];
    for await (const { greeting } of client.greetMany({ name: "Linus", count: 3 }))
      all.push(greeting);
    assert.deepEqual(all, ["Hello #1, Linus!", "Hello #2, Linus!", "Hello #3, Linus!"]);
  } finally {
    await plugin.kill();
  }
  assert.equal(plugin.state.t, "exited");
});
