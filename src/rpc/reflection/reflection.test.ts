import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http2";
import type { Server } from "node:net";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { handshake as kvHandshake, plugins as kvPlugins } from "../../../examples/kv/shared.ts";
import { fixtureService } from "../../../test/fixtures/fixture-service.ts";
import { PingPong } from "../../../test/fixtures/gen/grpctest_pb.js";
import { goBinary } from "../../../test/support/interop.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { startPlugin } from "../../host/start/start.ts";
import { healthService } from "../../plugin/serve/internal-services.ts";
import { createClient } from "../core/client.ts";
import type { Channel } from "../core/types.ts";
import { implement } from "../core/types.ts";
import { FastChannel } from "../fast/channel.ts";
import { fastWirePreface } from "../fast/frames.ts";
import { FastServerConnection } from "../fast/server.ts";
import { RpcChannel } from "../grpc/channel.ts";
import { RpcServer } from "../grpc/server.ts";
import { ReflectionClient } from "./client.ts";
import { reflectionServices } from "./server.ts";

const deadline = { timeoutMs: 20_000 };

/** Serves `rpc` on a unix socket over gRPC (HTTP/2) or the fast wire; returns a channel to it. */
async function serveOn(
  wire: "grpc" | "fast",
  rpc: RpcServer,
): Promise<{ channel: Channel; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "pw-refl-"));
  const path = join(dir, "s");
  let server: Server;
  const fast = new Set<FastServerConnection>();
  if (wire === "grpc") {
    const http2 = createServer();
    rpc.attach(http2);
    server = http2;
  } else {
    server = createNetServer((socket) => {
      socket.once("data", (first: Buffer) => {
        fast.add(new FastServerConnection(rpc, socket, first.subarray(fastWirePreface.byteLength)));
      });
    });
  }
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const options = { connect: () => connect(path), maxReceiveMessageBytes: 1 << 24 };
  const channel = wire === "grpc" ? new RpcChannel(options) : new FastChannel(options);
  return {
    channel,
    async stop() {
      channel.close();
      await Promise.all([...fast].map((c) => c.close(100)));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client for a service known only at run time: methods by local name, untyped. */
function dynamicClient(service: DescService, channel: Channel) {
  return createClient(service, channel) as unknown as Record<
    string,
    (request: unknown, options?: object) => unknown
  >;
}

function fixtureServer(): RpcServer {
  const rpc = new RpcServer().register(
    healthService(),
    fixtureService(),
    implement(PingPong, { ping: () => ({ msg: "pong" }) }),
  );
  return rpc.register(...reflectionServices(() => rpc.services));
}

for (const wire of ["grpc", "fast"] as const) {
  describe(`gRPC server reflection (${wire === "grpc" ? "gRPC over HTTP/2" : "fast wire"})`, () => {
    let served: Awaited<ReturnType<typeof serveOn>>;
    before(async () => {
      served = await serveOn(wire, fixtureServer());
    });
    after(() => served.stop());

    it("lists every registered service, reflection's own (v1 and v1alpha) included", async () => {
      using reflection = new ReflectionClient(served.channel, deadline);
      assert.deepEqual(await reflection.listServices(), [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpctest.PingPong",
        "plugwire.fixture.Fixture",
      ]);
      assert.equal(reflection.version, "v1");
    });

    it("resolves a service with its imports into a registry a dynamic client can call", async () => {
      using reflection = new ReflectionClient(served.channel, deadline);
      const registry = await reflection.resolve(["grpctest.PingPong", "plugwire.fixture.Fixture"]);
      // grpctest.proto imports google/protobuf/empty.proto: it came along.
      assert.ok(registry.getFile("google/protobuf/empty.proto"));
      const pingPong = registry.getService("grpctest.PingPong")!;
      assert.deepEqual(
        pingPong.methods.map((m) => m.name),
        ["Ping"],
      );
      // Descriptors from reflection only, no generated code: unary and server streaming.
      const fixture = registry.getService("plugwire.fixture.Fixture")!;
      const dynamic = dynamicClient(fixture, served.channel);
      const countMethod = fixture.methods.find((m) => m.name === "Count")!;
      assert.equal(countMethod.methodKind, "server_streaming");
      const seen: number[] = [];
      for await (const r of dynamic.count!(
        create(countMethod.input, { n: 3 } as never),
        deadline,
      ) as AsyncIterable<{ i: number }>)
        seen.push(r.i);
      assert.deepEqual(seen, [0, 1, 2]);
      const ping = pingPong.methods[0]!;
      const reply = (await dynamicClient(pingPong, served.channel).ping!(
        create(ping.input),
        deadline,
      )) as { msg: string };
      assert.equal(reply.msg, "pong");
    });

    it("finds files by name and by method, message, field, nested enum and enum value", async () => {
      using reflection = new ReflectionClient(served.channel, deadline);
      const health = "grpc/health/v1/health.proto";
      const expected = toBinary(FileDescriptorProtoSchema, Health.file.proto);
      for (const symbol of [
        "grpc.health.v1.Health",
        "grpc.health.v1.Health.Watch",
        ".grpc.health.v1.HealthCheckRequest",
        "grpc.health.v1.HealthCheckRequest.service",
        "grpc.health.v1.HealthCheckResponse.ServingStatus",
        "grpc.health.v1.HealthCheckResponse.SERVING",
      ]) {
        const [file] = await reflection.fileContainingSymbol(symbol);
        assert.equal(file?.name, health, symbol);
        assert.deepEqual(toBinary(FileDescriptorProtoSchema, file), expected, symbol);
      }
      const byName = await reflection.fileByFilename("grpctest.proto");
      assert.deepEqual(
        byName.map((f) => f.name),
        ["grpctest.proto", "google/protobuf/empty.proto"],
      );
    });

    it("answers what it cannot find with NOT_FOUND, and the stream stays usable", async () => {
      using reflection = new ReflectionClient(served.channel, deadline);
      for (const ask of [
        () => reflection.fileContainingSymbol("no.such.Service"),
        () => reflection.fileByFilename("no/such.proto"),
        () => reflection.fileContainingExtension("grpctest.TestRequest", 100),
        () => reflection.allExtensionNumbersOfType("no.such.Message"),
      ]) {
        await assert.rejects(ask, (error: unknown) => {
          assert.ok(error instanceof PluginError);
          assert.equal(error.code, "NOT_FOUND");
          return true;
        });
      }
      assert.deepEqual(await reflection.allExtensionNumbersOfType("grpctest.TestRequest"), []);
      assert.ok((await reflection.listServices()).includes("grpctest.PingPong"));
    });
  });
}

describe("gRPC server reflection, v1alpha only", () => {
  it("falls back to v1alpha when the server answers v1 with UNIMPLEMENTED", async () => {
    const rpc = new RpcServer().register(fixtureService());
    const [, alpha] = reflectionServices(() => rpc.services);
    rpc.register(alpha!);
    const served = await serveOn("grpc", rpc);
    try {
      using reflection = new ReflectionClient(served.channel, deadline);
      assert.deepEqual(await reflection.listServices(), [
        "grpc.reflection.v1alpha.ServerReflection",
        "plugwire.fixture.Fixture",
      ]);
      assert.equal(reflection.version, "v1alpha");
      const registry = await reflection.resolve(["plugwire.fixture.Fixture"]);
      assert.ok(registry.getMessage("plugwire.fixture.SumRequest"));
    } finally {
      await served.stop();
    }
  });

  it("fails with UNIMPLEMENTED when the server serves neither version", async () => {
    const served = await serveOn("grpc", new RpcServer().register(fixtureService()));
    try {
      using reflection = new ReflectionClient(served.channel, deadline);
      await assert.rejects(reflection.listServices(), { code: "UNIMPLEMENTED" });
    } finally {
      await served.stop();
    }
  });
});

describe("gRPC server reflection against go-plugin's KV example plugin (Go, grpc-go)", () => {
  it("lists proto.KV and resolves it well enough to Put and Get by descriptor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-refl-kv-"));
    try {
      await using plugin = await startPlugin({
        cmd: goBinary("kv-example-plugin"),
        cwd: dir,
        handshake: kvHandshake,
        plugins: kvPlugins,
      });
      using reflection = new ReflectionClient(plugin, deadline);
      const services = await reflection.listServices();
      for (const name of ["proto.KV", "plugin.GRPCBroker", "grpc.health.v1.Health"])
        assert.ok(services.includes(name), `${name} in ${services.join(", ")}`);
      const registry = await reflection.resolve(["proto.KV"]);
      const kv = registry.getService("proto.KV")!;
      const input = (name: string): DescMessage => kv.methods.find((m) => m.name === name)!.input;
      const client = plugin.client(kv) as unknown as Record<
        string,
        (request: unknown, options?: object) => Promise<Record<string, unknown>>
      >;
      await client.put!(
        create(input("Put"), { key: "hello", value: Buffer.from("world") } as never),
        deadline,
      );
      const got = await client.get!(create(input("Get"), { key: "hello" } as never), deadline);
      assert.equal(
        Buffer.from(got.value as Uint8Array).toString(),
        "world\n\nWritten from plugin-go-grpc",
      );
      assert.equal(
        readFileSync(join(dir, "kv_hello"), "utf8"),
        "world\n\nWritten from plugin-go-grpc",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
