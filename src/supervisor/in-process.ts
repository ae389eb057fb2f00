import { duplexPair } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import type { ExitInfo } from "../host/client/plugin-client.ts";
import { healthService } from "../plugin/serve/internal-services.ts";
import { createClient } from "../rpc/core/client.ts";
import type { Client, ServiceRegistration } from "../rpc/core/types.ts";
import { RpcServer } from "../rpc/grpc/server.ts";
import { H2Channel } from "../rpc/h2/client.ts";
import { H2ServerConnection } from "../rpc/h2/server.ts";
import type { Connection } from "./connection.ts";

export interface InProcessOptions {
  /** The implementations to serve. */
  services: ReadonlyArray<ServiceRegistration<DescService>>;
  /** Name used in errors. Default `in-process`. */
  name?: string | undefined;
  /** Protocol version reported to the host. Default 1. */
  protocolVersion?: number | undefined;
}

/**
 * Serves implementations in this process behind the same gRPC client a plugin process gets: an
 * HTTP/2 connection over an in-memory duplex pair, so encoding, deadlines, cancellation and errors
 * behave exactly as they do across a socket. No subprocess, no socket file.
 */
export function connectInProcess(options: InProcessOptions): Connection {
  const name = options.name ?? "in-process";
  const rpc = new RpcServer();
  rpc.register(healthService(), ...options.services);
  // gRPC on plugwire's HTTP/2 framing, both ends in this process.
  const served = new Set<H2ServerConnection>();
  const channel = new H2Channel({
    connect: () => {
      const [clientSide, serverSide] = duplexPair();
      serverSide.on("error", () => {});
      const connection = new H2ServerConnection(rpc, serverSide);
      served.add(connection);
      void connection.closed.then(() => served.delete(connection));
      return clientSide;
    },
  });
  const clients = new Map<DescService, unknown>();
  const { promise: exited, resolve } = Promise.withResolvers<ExitInfo>();
  let killed = false;
  const connection: Connection = {
    info: {
      transport: "in-process",
      address: name,
      tls: false,
      protocolVersion: options.protocolVersion ?? 1,
      protocol: "grpc",
      pid: undefined,
    },
    exited,
    client<S extends DescService>(service: S): Client<S> {
      let client = clients.get(service) as Client<S> | undefined;
      if (client === undefined) {
        client = createClient(service, channel);
        clients.set(service, client);
      }
      return client;
    },
    dispense(plugin) {
      throw new PluginError(
        "PROTOCOL_UNSUPPORTED",
        `${plugin} is a net/rpc interface, but this in-process plugin serves gRPC services (use connectInProcessNetRpc)`,
        { plugin: name },
      );
    },
    async ping(ping = {}) {
      await createClient(Health, channel).check(
        { service: "plugin" },
        { timeoutMs: ping.timeoutMs ?? 5000, signal: ping.signal },
      );
    },
    isAlive: () => !killed,
    terminate() {
      void connection.kill();
    },
    async kill() {
      if (killed) return exited.then(() => {});
      killed = true;
      rpc.abortAll("the in-process plugin was stopped");
      channel.close(
        new PluginError("CLIENT_CLOSED", "the plugin was stopped by the host", { plugin: name }),
      );
      for (const connection of served) void connection.close(0);
      resolve({ code: 0, signal: null, forced: false });
    },
  };
  return connection;
}
