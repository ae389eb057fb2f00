// The gRPC framing a host and a plugin choose (docs/transport.md, "Selecting it"): each side
// picks its own, and every pairing serves the same calls across real processes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { socketDir, startFixture } from "../../../test/support/fixture.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { chooseWire, mainListener } from "../../plugin/serve/listen.ts";
import { RpcChannel } from "../../rpc/grpc/channel.ts";
import { RpcServer } from "../../rpc/grpc/server.ts";
import { H2Channel } from "../../rpc/h2/client.ts";
import type { GrpcFraming } from "../../rpc/h2/framing-option.ts";
import { resolveStart } from "./config.ts";
import { connectStep } from "./connect.ts";

const framings: GrpcFraming[] = ["h2", "node-http2"];

describe("the gRPC framing of a host and its plugin", () => {
  for (const host of framings) {
    for (const plugin of framings) {
      for (const autoMtls of [false, true]) {
        it(`host on ${host}, plugin on ${plugin}, AutoMTLS ${autoMtls ? "on" : "off"}: unary and streams answer`, async () => {
          using dir = socketDir();
          const client = await startFixture("test-grpc", {
            grpcFraming: host,
            env: { PLUGWIRE_GRPC_FRAMING: plugin },
            fastWire: false,
            autoMtls,
            unixSocketDir: dir.dir,
          });
          try {
            assert.equal(client.wire, "grpc");
            assert.equal((await client.dispense("test").double({ Input: 21 })).Output, 42);
            const payload = new Uint8Array(256 * 1024).fill(7);
            const echoed = await client.dispense("fixture").echo({ payload });
            assert.equal(echoed.payload.byteLength, payload.byteLength);
            async function* requests() {
              for (let i = 0; i < 50; i++) yield { payload: new Uint8Array([i]) };
            }
            const answers: number[] = [];
            for await (const answer of client.dispense("fixture").echoStream(requests()))
              answers.push(answer.payload[0] ?? -1);
            assert.deepEqual(
              answers,
              Array.from({ length: 50 }, (_, i) => i),
            );
          } finally {
            await client.kill();
          }
          assert.deepEqual(dir.leftovers(), []);
        });
      }
    }
  }

  it("opens the host's channel on the framing it resolved", () => {
    const negotiated = {
      handshake: { network: "unix", address: "/tmp/none.sock", fastWire: false },
      tls: undefined,
    } as never;
    const base = {
      cmd: "plugin",
      handshake: { magicCookieKey: "K", magicCookieValue: "v", protocolVersion: 1 },
    };
    for (const [grpcFraming, kind] of [
      [undefined, H2Channel],
      ["h2", H2Channel],
      ["node-http2", RpcChannel],
    ] as const) {
      for (const multiplex of [false, true]) {
        const config = resolveStart({ ...base, grpcFraming, multiplex });
        const connection = connectStep(negotiated, config);
        try {
          assert.ok(connection.channel instanceof kind, `${grpcFraming} (multiplex ${multiplex})`);
        } finally {
          connection.channel.close();
          if (connection.t === "mux") void connection.mux.session.close();
        }
      }
    }
  });

  it("serves the plugin's listener on the framing its option or environment names", async () => {
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    for (const [option, env, nodeHttp2] of [
      [undefined, {}, false],
      [undefined, { PLUGWIRE_GRPC_FRAMING: "node-http2" }, true],
      ["h2", { PLUGWIRE_GRPC_FRAMING: "node-http2" }, false],
      ["node-http2", {}, true],
    ] as const) {
      const wire = chooseWire(undefined, env, false, "grpc", option);
      const listener = mainListener(
        new RpcServer(),
        undefined as never,
        undefined,
        wire,
        logger,
        () => {},
      );
      // A node:http2 server is the one with HTTP/2 settings of its own to update.
      assert.equal(
        "updateSettings" in listener.server,
        nodeHttp2,
        `${option} ${JSON.stringify(env)}`,
      );
      await listener.close();
    }
  });

  it("refuses a framing it does not know before anything starts", async () => {
    await assert.rejects(
      startFixture("test-grpc", { grpcFraming: "http2" as never }),
      (error: unknown) => error instanceof PluginError && error.code === "CONFIG_INVALID",
    );
  });
});
