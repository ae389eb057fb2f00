import type { Server } from "node:net";
import type { Broker } from "../../broker/broker.ts";
import { MuxRouter } from "../../broker/mux-transport.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { Step } from "../../internal/step.ts";
import { checkStep } from "../../internal/step.ts";
import { Env } from "../../protocol/env.ts";
import type { Network, WireProtocol } from "../../protocol/handshake-line.ts";
import { parseGoBool } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { RpcServer } from "../../rpc/grpc/server.ts";
import type { GrpcFraming } from "../../rpc/h2/framing-option.ts";
import { resolveGrpcFraming } from "../../rpc/h2/framing-option.ts";
import type { ServerTls } from "../../transport/auto-mtls-server.ts";
import { createDualListener } from "../../transport/dual-listener.ts";
import { createGrpcServer } from "../../transport/http2-server.ts";
import type { BoundAddress } from "../../transport/listen.ts";
import { listen } from "../../transport/listen.ts";
import { muxListener } from "../../transport/mux-listener.ts";
import { exitWith } from "./exit.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** How the host asked to be served, read from its environment. */
export interface Wire {
  readonly network: Network;
  /** The host set PLUGIN_MULTIPLEX_GRPC: the handshake answers it in field 7, and only then. */
  readonly muxAsked: boolean;
  /** go-plugin's multiplexed mode: one yamux connection carries gRPC and the broker. */
  readonly mux: boolean;
  /** plugwire's fast wire beside gRPC on the same address (docs/fast-wire.md). */
  readonly fastWire: boolean;
  /** The HTTP/2 gRPC is served on (main listener and brokered servers). */
  readonly grpcFraming: GrpcFraming;
}

/**
 * `network` (default: the host's PLUGWIRE_NETWORK request, else unix) and the wire the host asked
 * for. Multiplexing and the fast wire are gRPC's: a net/rpc version has neither (it still answers
 * field 7 when asked, as a Go plugin does).
 */
export function chooseWire(
  network: Network | undefined,
  env: NodeJS.ProcessEnv,
  debug: boolean,
  protocol: WireProtocol = "grpc",
  grpcFraming?: GrpcFraming | undefined,
): Wire {
  const muxRequested = env[Env.multiplexGrpc] ?? "";
  const mux = protocol === "grpc" && parseGoBool(muxRequested) === true;
  return {
    network: network ?? (env[Env.network] === "tcp" ? "tcp" : "unix"),
    muxAsked: muxRequested !== "",
    mux,
    // Only when a plugwire host offers it, and not with multiplexing; a Go host never offers
    // it and gets exactly go-plugin's gRPC server.
    fastWire: protocol === "grpc" && !debug && !mux && env[Env.fastWire] === "1",
    grpcFraming: resolveGrpcFraming(grpcFraming, env),
  };
}

/** The plugin's main listener: what the host connects to. */
export interface MainListener {
  readonly server: Server;
  /** Multiplexed mode: starts the 5 s window for the host's one connection. Otherwise nothing. */
  awaitHost(): void;
  /** Ends the connections (calls get a grace period), then stops listening. */
  close(): Promise<void>;
}

/** The main listener for `wire`; in multiplexed mode `onNoHost` runs when the host never connects. */
export function mainListener(
  rpc: RpcServer,
  broker: Broker,
  tls: ServerTls | undefined,
  wire: Wire,
  logger: Logger,
  onNoHost: () => void,
): MainListener {
  const onTlsError = (error: Error) =>
    logger.debug("TLS handshake with a client failed", { error });
  if (wire.fastWire) {
    const dual = createDualListener(rpc, tls, onTlsError, wire.grpcFraming);
    return { server: dual.server, awaitHost: () => {}, close: () => dual.close() };
  }
  const grpc = createGrpcServer(rpc, tls, onTlsError, wire.grpcFraming);
  if (!wire.mux) return { server: grpc.server, awaitHost: () => {}, close: () => grpc.close() };
  const mux = muxListener(
    (session) => broker.multiplex(new MuxRouter(session, grpc.server)),
    onNoHost,
  );
  return {
    server: mux.server,
    awaitHost: () => mux.awaitHost(),
    async close() {
      await grpc.close();
      await mux.close();
    },
  };
}

/**
 * Binds the main listener as go-plugin does (a unix socket in PLUGIN_UNIX_SOCKET_DIR, or TCP
 * within PLUGIN_MIN_PORT..MAX_PORT). Nothing is bound once the step's signal has fired. A plugin
 * that cannot bind logs why and exits 1, as a Go plugin does.
 */
export async function bindListener(
  step: Step,
  listener: MainListener,
  wire: Wire,
  env: NodeJS.ProcessEnv,
  stdio: StdioCapture,
  logger: Logger,
): Promise<BoundAddress> {
  checkStep(step);
  try {
    const bound = await listen(listener.server, { network: wire.network, env });
    logger.debug("plugin address", { network: bound.network, address: bound.address });
    return bound;
  } catch (error) {
    const failure = PluginError.from(error, "CONFIG_INVALID");
    logger.error("plugin init error", { error: failure.message, code: failure.code });
    return await exitWith(stdio, 1);
  }
}
