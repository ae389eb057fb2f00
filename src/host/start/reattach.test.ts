// Debug mode and reattach (go-plugin's test mode and TF_REATTACH_PROVIDERS).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { statSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import {
  fixturePlugin,
  processAlive,
  socketDir,
  startFixture,
  testPlugins,
  waitFor,
} from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { formatReattachConfig, parseReattachConfigs } from "./reattach.ts";
import { attachPlugin } from "./start.ts";

describe("debug mode and reattach", () => {
  it("reads go-plugin's protocols: none (or empty) is netrpc, anything else is refused", () => {
    const config = (protocol: string | undefined) =>
      JSON.stringify({
        p: { Protocol: protocol, Pid: 1, Addr: { Network: "unix", String: "/x" } },
      });
    assert.equal(parseReattachConfigs(config(undefined)).p?.protocol, "netrpc");
    assert.equal(parseReattachConfigs(config("")).p?.protocol, "netrpc");
    assert.equal(parseReattachConfigs(config("grpc")).p?.protocol, "grpc");
    assert.throws(
      () => parseReattachConfigs(config("http")),
      (e: unknown) => e instanceof PluginError && e.code === "PROTOCOL_UNSUPPORTED",
    );
  });

  it("a plugin in debug mode prints a TF_REATTACH_PROVIDERS-shaped config a host attaches to", async () => {
    const child = spawn(fixturePlugin, ["debug"], { stdio: ["ignore", "pipe", "ignore"] });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    try {
      await waitFor(() => output.includes("PLUGWIRE_REATTACH='"), 20_000, "the reattach line");
      assert.match(
        output,
        /^Plugin started. To attach a host, set the PLUGWIRE_REATTACH environment variable/,
      );
      const json = /PLUGWIRE_REATTACH='(.*)'/.exec(output)![1]!;
      const configs = parseReattachConfigs(json);
      const config = configs["registry.plugwire.dev/test/fixture"]!;
      assert.equal(config.pid, child.pid);
      assert.equal(config.test, true);
      assert.equal(config.protocolVersion, 1);
      assert.deepEqual(parseReattachConfigs(formatReattachConfig("x", config)).x, config);

      const first = await attachPlugin({ reattach: config, plugins: testPlugins, name: "fixture" });
      assert.equal(first.negotiatedVersion, 1);
      assert.equal((await first.dispense("test").double({ Input: 8 })).Output, 16);
      await first.kill(); // a debug-mode plugin is not ours to stop
      assert.ok(processAlive(child.pid!));
      const second = await attachPlugin({ reattach: config, plugins: testPlugins });
      await second.ping();
      await second.kill();

      child.kill("SIGINT");
      await once(child, "exit");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("TestSetGroup: the host's private socket directory gets the group and mode 0770", async () => {
    await using plugin = await startFixture("test-grpc", { unixSocketGroup: "root" });
    const dir = statSync(dirname(plugin.address));
    assert.equal(dir.mode & 0o777, 0o770);
    assert.equal(dir.gid, 0);
  });

  for (const group of ["0", "root"]) {
    it(`TestUnixSocketGroupPermissions: PLUGIN_UNIX_SOCKET_GROUP=${group} gives the socket that group and mode 0660`, async () => {
      using sockets = socketDir();
      await using plugin = await startFixture("test-grpc", {
        unixSocketDir: sockets.dir,
        unixSocketGroup: group,
      });
      const stat = statSync(plugin.address);
      assert.ok(stat.isSocket());
      assert.equal(stat.mode & 0o777, 0o660);
      assert.equal(stat.gid, 0);
    });
  }
});

describe("attaching over IPv6", () => {
  it("attaches to [::1]:port, and names it so when nothing listens there", async () => {
    await using plugin = await startFixture("test-grpc", {
      network: "tcp",
      autoMtls: false,
      fastWire: false,
    });
    // The plugin listens on 127.0.0.1; a relay on ::1 gives it an IPv6 address.
    const port = Number(/:(\d+)$/.exec(plugin.address)![1]);
    const relayed = new Set<Socket>();
    const relay: Server = createServer((socket) => {
      const upstream = connect(port, "127.0.0.1");
      for (const end of [socket, upstream]) {
        relayed.add(end);
        end.on("error", () => {});
        end.on("close", () => {
          relayed.delete(end);
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    });
    relay.listen(0, "::1");
    await once(relay, "listening");
    const relayPort = (relay.address() as { port: number }).port;
    try {
      const attached = await attachPlugin({
        reattach: {
          ...plugin.reattachConfig(),
          test: true, // not ours to stop: the plugin stays for `plugin` to kill
          addr: { network: "tcp", address: `[::1]:${relayPort}` },
        },
        plugins: testPlugins,
        name: "v6",
      });
      assert.equal(attached.address, `[::1]:${relayPort}`);
      assert.equal((await attached.dispense("test").double({ Input: 21 })).Output, 42);
      await attached.kill();
    } finally {
      const closed = once(relay, "close");
      relay.close();
      for (const socket of relayed) socket.destroy();
      await closed;
    }
    const gone = {
      ...plugin.reattachConfig(),
      addr: { network: "tcp" as const, address: `[::1]:${relayPort}` },
    };
    const error = await attachPlugin({ reattach: gone, name: "v6" }).then(
      () => new Error("the attach succeeded"),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof PluginError, String(error));
    assert.equal(error.code, "REATTACH_NOT_FOUND");
    assert.match(error.message, new RegExp(`nothing listens at tcp:\\[::1\\]:${relayPort} `));
  });
});
