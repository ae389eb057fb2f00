// net/rpc drivers in a host's configuration: `netrpc_plugin`, the interface given in the options
// or by `service()`, and what is refused. The driver is the TypeScript greeter, a real process.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Greeter, netrpcPluginCmd, Tester } from "../../test/fixtures/netrpc-shared.ts";
import { tempDir, writeScript } from "../../test/manager/support.ts";
import type { PluginError } from "../errors/plugin-error.ts";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { parseConfig } from "./config.ts";
import { ServiceManager } from "./service-manager.ts";

function configFile(dir: string): string {
  writeScript(join(dir, "greeter"), `exec '${netrpcPluginCmd}' greeter "$@"`);
  const file = join(dir, "plugwire.toml");
  writeFileSync(
    file,
    `[manager]
start_timeout_ms = 20000
[manager.handshake]
magic_cookie_key = "BASIC_PLUGIN"
magic_cookie_value = "hello"
protocol_version = 1

[services.greeter]
driver = "./greeter"
netrpc_plugin = "greeter"

[services.plain]
driver = "./greeter"
`,
  );
  return file;
}

describe("net/rpc services in plugwire.toml", () => {
  it("reads netrpc_plugin, and refuses one that is not a string at its line", () => {
    const config = parseConfig(
      '[services.u]\ndriver = "x"\nnetrpc_plugin = "userprovider"\n',
      "/h/p.toml",
    );
    assert.equal(config.services.u?.netrpcPlugin, "userprovider");
    assert.equal(
      parseConfig('[services.u]\ndriver = "x"\n', "/h/p.toml").services.u?.netrpcPlugin,
      undefined,
    );
    assert.throws(
      () => parseConfig('[services.u]\ndriver = "x"\nnetrpc_plugin = 3\n', "/h/p.toml"),
      (error: PluginError) =>
        error.code === "CONFIG_INVALID" &&
        /p\.toml:3: key `services\.u\.netrpc_plugin`/.test(error.rawMessage),
    );
  });

  it("service(name, Iface) gives the interface before the first start and answers supervised", async () => {
    using tmp = tempDir("pw-netrpc-svc-");
    await using manager = await ServiceManager.load(configFile(tmp.dir));
    const greeter = manager.service("greeter", Greeter);
    assert.equal(await greeter.Greet(null), "Hello!");
    assert.equal(manager.plugin("greeter").manifest.protocol, "netrpc");
    assert.equal(await manager.service("greeter", Greeter).Greet(null), "Hello!"); // the same again
    assert.throws(
      () => manager.service("greeter", Tester),
      (error: PluginError) =>
        error.code === "CONFIG_INVALID" &&
        /dispensed as another net\/rpc interface/.test(error.rawMessage),
    );
    assert.throws(
      () => manager.service("plain", Greeter),
      (error: PluginError) =>
        error.code === "CONFIG_INVALID" &&
        /no net\/rpc driver: set `netrpc_plugin`/.test(error.rawMessage),
    );
    // A gRPC client of a net/rpc service fails its call, naming the protocol.
    await assert.rejects(manager.service("greeter", Health).check({}), {
      code: "PROTOCOL_UNSUPPORTED",
    });
  });

  it("the options' netrpc map starts it with the interface; one that started without it is refused", async () => {
    using tmp = tempDir("pw-netrpc-svc-");
    const file = configFile(tmp.dir);
    {
      await using manager = await ServiceManager.load(file, { netrpc: { greeter: Greeter } });
      await manager.plugin("greeter").start();
      assert.equal(await manager.service("greeter", Greeter).Greet(null), "Hello!");
    }
    await using manager = await ServiceManager.load(file);
    await manager.plugin("greeter").start();
    assert.throws(
      () => manager.service("greeter", Greeter),
      (error: PluginError) =>
        error.code === "CONFIG_INVALID" &&
        /started before its net\/rpc interface was known/.test(error.rawMessage),
    );
  });
});
