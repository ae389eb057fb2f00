// A host written against the installed package, type-checked with skipLibCheck: false (it is
// never run: host.mjs is the one that runs). It touches every public entry.

import { connect } from "node:net";
import type { ExitInfo, PluginClientState } from "plugwire";
import { attachPlugin, PluginError, startPlugin } from "plugwire";
import type { ManagedPluginState } from "plugwire/manager";
import { parseConfig, ServiceManager } from "plugwire/manager";
import { implement } from "plugwire/plugin";
import type { Interceptor } from "plugwire/rpc";
import { createClient, intercept, RpcChannel, RpcServer } from "plugwire/rpc";
import { inProcessClient } from "plugwire/testing";
import { KV } from "./kv/gen/kv_pb.js";
import { handshake, plugins } from "./kv/shared.ts";

export async function main(): Promise<void> {
  const plugin = await startPlugin({
    cmd: "./kv/plugin-ts/kv-plugin",
    handshake,
    plugins,
    killGraceMs: 500,
    startTimeoutMs: 5000,
  });
  const kv = plugin.dispense("kv");
  await kv.put({ key: "k", value: new TextEncoder().encode("v") }, { timeoutMs: 1000 });
  const { value }: { value: Uint8Array } = await kv.get({ key: "k" });
  const state: PluginClientState = plugin.state;
  plugin.on("exit", (info: ExitInfo) => console.log(info.code, state.t, value.length));
  try {
    await kv.get({ key: "missing" });
  } catch (error) {
    if (error instanceof PluginError && error.code === "NOT_FOUND") console.log(error.rawMessage);
  }
  await plugin.kill();
  const again = await attachPlugin({ reattach: plugin.reattachConfig(), plugins });
  await again.kill();

  const local = inProcessClient(KV, {
    async get() {
      return { value: new Uint8Array() };
    },
    async put() {
      return {};
    },
  });
  await local.client.get({ key: "x" });
  const logged: Interceptor = (next) => (request) => {
    console.log(request.method.name);
    return next(request);
  };
  const channel = new RpcChannel({ connect: () => connect("/tmp/kv.sock") });
  const viaRpc = createClient(KV, intercept(channel, logged));
  await viaRpc.get({ key: "y" });
  await local.close();
  console.log(
    new RpcServer().register(implement(KV, { get: async () => ({}), put: async () => ({}) }))
      .serviceNames,
  );
  const registration = implement(KV, { get: async () => ({}), put: async () => ({}) });
  console.log(registration.service.typeName);

  const config = parseConfig(
    '[manager.handshake]\nmagic_cookie_key = "BASIC_PLUGIN"\nmagic_cookie_value = "hello"\n',
    "plugwire.toml",
  );
  const manager = await ServiceManager.create(config, { onProgress: (line) => console.log(line) });
  const states: ManagedPluginState[] = [];
  console.log(states.length);
  await manager.close();
}
