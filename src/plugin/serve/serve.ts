import type { DescService } from "@bufbuild/protobuf";
import { Broker } from "../../broker/broker.ts";
import { fastBrokerWireWith, grpcBrokerWireFor } from "../../broker/wires.ts";
import type { Step } from "../../internal/step.ts";
import { stepError } from "../../internal/step.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { ServiceRegistration } from "../../rpc/core/types.ts";
import { RpcServer } from "../../rpc/grpc/server.ts";
import type { GrpcFraming } from "../../rpc/h2/framing-option.ts";
import { reflectionServices } from "../../rpc/reflection/server.ts";
import type { ServerTls } from "../../transport/auto-mtls-server.ts";
import { announce } from "./announce.ts";
import { checkCookie } from "./cookie.ts";
import {
  brokerService,
  controllerService,
  healthService,
  stdioService,
} from "./internal-services.ts";
import type { MainListener, Wire } from "./listen.ts";
import { bindListener, chooseWire, mainListener } from "./listen.ts";
import { createPluginLogger } from "./logger.ts";
import type { NetRpcPlugins } from "./netrpc-plugins.ts";
import { netRpcServing } from "./serve-netrpc.ts";
import { PluginShutdown } from "./shutdown.ts";
import { StdioCapture } from "./stdio-capture.ts";
import { autoMtls } from "./tls.ts";
import type { VersionChoice, VersionSet } from "./version.ts";
import { chooseVersion } from "./version.ts";

export interface ServeOptions {
  /** The magic cookie and, with `services`, the one protocol version spoken. */
  handshake: HandshakeConfig;
  /** The services served for `handshake.protocolVersion` (default version 1). */
  services?: ReadonlyArray<ServiceRegistration<DescService>> | undefined;
  /**
   * go-plugin's net/rpc plugins by name, served for `handshake.protocolVersion` (default 1) over
   * go-plugin's net/rpc protocol: `{ greeter: netrpcPlugin(Greeter, impl) }`. Not with `services`.
   */
  plugins?: NetRpcPlugins | undefined;
  /**
   * What each protocol version serves, like go-plugin's VersionedPlugins; wins over `services`
   * and `plugins`. A list of gRPC services, or an object of net/rpc plugins by name: the version
   * the host and plugin agree on also decides the protocol.
   */
  versions?: Readonly<Record<number, VersionSet>> | undefined;
  /** plugwire's own log lines. Default: hclog JSON on stderr, which hosts mirror. */
  logger?: Logger | undefined;
  /** `unix` (default) or `tcp`; default taken from the host's PLUGWIRE_NETWORK request. */
  network?: Network | undefined;
  /** Largest message a handler receives. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message a handler sends. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
  /** Calls one host connection may have running at once (beyond: RESOURCE_EXHAUSTED). Default 1000. */
  maxConcurrentCalls?: number | undefined;
  /** A fast-wire connection with no call running this long is closed (ms). Default 30000. */
  idleTimeoutMs?: number | undefined;
  /**
   * The HTTP/2 gRPC is served on: `"h2"`, plugwire's own framing, or `"node-http2"`, Node's
   * (docs/transport.md). Hosts of every kind connect to either. Default: PLUGWIRE_GRPC_FRAMING
   * in `env`, else `"h2"`.
   */
  grpcFraming?: GrpcFraming | undefined;
  /**
   * Debug mode (go-plugin's test mode): no cookie check and no handshake line; instead a
   * reattach config is printed for a host to attach to, and SIGINT stops the plugin.
   */
  debug?: { readonly name: string; readonly envVar?: string | undefined } | undefined;
  /** Exit the process after the host's Shutdown (or the host's death). Default true. */
  exitProcess?: boolean | undefined;
  /** The environment to read. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * Stops the plugin server when aborted, as the host's Shutdown does: calls are ended, the
   * listener closed after a grace period, the socket removed, `closed` settles, and the process
   * exits unless `exitProcess` is false. Aborted before the handshake line is out, `serve()`
   * rejects with `CANCELLED` (the signal's reason, if a PluginError) and leaves nothing behind:
   * already aborted, it serves nothing at all.
   */
  signal?: AbortSignal | undefined;
}

/** A running plugin server. */
export interface PluginServer {
  readonly protocolVersion: number;
  readonly network: Network;
  readonly address: string;
  readonly tls: boolean;
  /** Settles when the server has stopped. */
  readonly closed: Promise<void>;
  /** Stops serving, removes the socket; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves a plugin the way go-plugin's `plugin.Serve` does, so Go hosts and plugwire hosts can
 * launch it: checks the cookie, negotiates the version, listens, prints the handshake line, and
 * serves the application services with health, controller, stdio and broker.
 */
export async function serve(options: ServeOptions): Promise<PluginServer> {
  // An aborted signal serves nothing: not even stdout is taken over.
  if (options.signal?.aborted) throw stepError(options.signal);
  const env = options.env ?? process.env;
  // Before anything else: nothing but the handshake line may reach the real stdout.
  const stdio = new StdioCapture();
  const logger =
    options.logger ?? createPluginLogger({ write: (line) => stdio.writeRealStderr(line) });
  // Serving has no deadline of its own: it runs until stopped or the signal fires.
  const step: Step = {
    signal: options.signal ?? new AbortController().signal,
    deadline: Number.POSITIVE_INFINITY,
  };
  const { version, tls } = await prepare(options, step, { env, stdio, logger });
  const wire = chooseWire(
    options.network,
    env,
    options.debug !== undefined,
    version.protocol,
    options.grpcFraming,
  );
  const { listener, shutdown } = assemble(options, { env, stdio, logger, tls, wire, version });
  try {
    const bound = await bindListener(step, listener, wire, env, stdio, logger);
    shutdown.listening(bound);
    const serverCert = tls?.identity.certRawBase64 ?? "";
    const announced = { ...version, bound, wire, serverCert };
    await announce(step, stdio, announced, options.debug);
    if (options.debug === undefined) listener.awaitHost();
    // From here on the signal stops the server like the host's Shutdown.
    shutdown.watch(step.signal);
    return {
      protocolVersion: version.protocolVersion,
      network: bound.network,
      address: bound.address,
      tls: tls !== undefined,
      closed: shutdown.closed,
      close: () => shutdown.stop("closed by the plugin"),
      [Symbol.asyncDispose]: () => shutdown.stop("disposed"),
    };
  } catch (error) {
    // Cancelled before the host heard of us: undo everything, and leave the process be.
    await shutdown.stop("serve() was cancelled", { exitProcess: false });
    throw error;
  }
}

/**
 * The cookie check, the protocol version and our AutoMTLS identity, before anything listens.
 * On failure stdout is given back as it was.
 */
async function prepare(
  options: ServeOptions,
  step: Step,
  { env, stdio, logger }: Pick<Parts, "env" | "stdio" | "logger">,
): Promise<Pick<Parts, "version" | "tls">> {
  try {
    if (options.debug === undefined) await checkCookie(options.handshake, env, stdio);
    const version = chooseVersion(options, env, logger);
    return { version, tls: await autoMtls(step, env, logger) };
  } catch (error) {
    stdio.restore();
    throw error;
  }
}

interface Parts {
  readonly env: NodeJS.ProcessEnv;
  readonly stdio: StdioCapture;
  readonly logger: Logger;
  readonly tls: ServerTls | undefined;
  readonly wire: Wire;
  readonly version: VersionChoice;
}

/**
 * The plugin server, not yet listening: what the negotiated version's protocol serves, the main
 * listener, and how it all stops.
 */
function assemble(
  options: ServeOptions,
  parts: Parts,
): { listener: MainListener; shutdown: PluginShutdown } {
  const stop = (reason: string) => void shutdown.stop(reason);
  const { version } = parts;
  const serving =
    version.protocol === "netrpc"
      ? netRpcServing({
          plugins: version.plugins,
          tls: parts.tls,
          stdio: parts.stdio,
          logger: parts.logger,
          maxMessageBytes: options.maxReceiveMessageBytes,
          maxConcurrentCalls: options.maxConcurrentCalls,
          onQuit: () => stop("Control.Quit from the host"),
        })
      : assembleGrpc(options, parts, version.services, stop);
  const shutdown = new PluginShutdown({
    rpc: serving.rpc,
    broker: serving.broker,
    listener: serving.listener,
    stdio: parts.stdio,
    logger: parts.logger,
    exitProcess: options.exitProcess ?? true,
    debug: options.debug !== undefined,
  });
  return { listener: serving.listener, shutdown };
}

/**
 * go-plugin's gRPC server: the broker, the RPC server with go-plugin's internal services, our
 * reflection and the application's, and the main listener.
 */
function assembleGrpc(
  options: ServeOptions,
  { env, stdio, logger, tls, wire }: Parts,
  services: ReadonlyArray<ServiceRegistration<DescService>>,
  stop: (reason: string) => void,
): { rpc: RpcServer; broker: Broker; listener: MainListener } {
  const limits = {
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  };
  // A host that offered the fast wire uses it when we announce it, brokered calls included.
  const brokerWire = wire.fastWire
    ? fastBrokerWireWith(wire.grpcFraming)
    : grpcBrokerWireFor(wire.grpcFraming);
  const broker = new Broker({
    name: "plugin",
    network: wire.network,
    env,
    tls,
    logger,
    wire: brokerWire,
    ...limits,
  });
  const rpc = new RpcServer({
    ...limits,
    maxConcurrentCalls: options.maxConcurrentCalls,
    idleTimeoutMs: options.idleTimeoutMs,
    onHandlerError: (error, path) => logger.error("handler failed", { method: path, error }),
    broker,
  });
  rpc.register(
    healthService(),
    controllerService(() => stop("shutdown requested by the host")),
    stdioService(stdio),
    brokerService(broker),
  );
  rpc.register(...services);
  rpc.register(...reflectionServices(() => rpc.services)); // grpc reflection, as Go plugins
  const listener = mainListener(rpc, broker, tls, wire, logger, () =>
    stop("the host did not connect within 5 s (multiplexed mode)"),
  );
  return { rpc, broker, listener };
}
