import type { Server } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { afterLoopTurn } from "../../internal/settle.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import { cookieMismatchMessage, Env } from "../../protocol/env.ts";
import type { Handshake, Network } from "../../protocol/handshake-line.ts";
import { formatHandshake, parseGoBool } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { negotiateVersion } from "../../protocol/negotiate.ts";
import type { ServiceRegistration } from "../../rpc/core/types.ts";
import { createGrpcServer } from "../../rpc/grpc/http2-server.ts";
import { RpcServer } from "../../rpc/grpc/server.ts";
import { reflectionServices } from "../../rpc/reflection/server.ts";
import type { TlsIdentity } from "../../transport/auto-mtls.ts";
import { assertCertificatePem, generateTlsIdentity } from "../../transport/auto-mtls.ts";
import { createDualListener } from "../../transport/dual-listener.ts";
import type { BoundAddress } from "../../transport/listen.ts";
import { listen } from "../../transport/listen.ts";
import { muxListener } from "../../transport/mux-listener.ts";
import { createPluginLogger } from "../logger.ts";
import {
  brokerService,
  controllerService,
  healthService,
  stdioService,
} from "./internal-services.ts";
import { watchParent } from "./parent-watch.ts";
import { StdioCapture } from "./stdio-capture.ts";

export interface ServeOptions {
  /** The magic cookie and, with `services`, the one protocol version spoken. */
  handshake: HandshakeConfig;
  /** The services served for `handshake.protocolVersion` (default version 1). */
  services?: ReadonlyArray<ServiceRegistration<DescService>> | undefined;
  /** Services per protocol version, like go-plugin's VersionedPlugins; wins over `services`. */
  versions?: Readonly<Record<number, ReadonlyArray<ServiceRegistration<DescService>>>> | undefined;
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
   * Debug mode (go-plugin's test mode): no cookie check and no handshake line; instead a
   * reattach config is printed for a host to attach to, and SIGINT stops the plugin.
   */
  debug?: { readonly name: string; readonly envVar?: string | undefined } | undefined;
  /** Exit the process after the host's Shutdown (or the host's death). Default true. */
  exitProcess?: boolean | undefined;
  /** The environment to read. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
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
  const env = options.env ?? process.env;
  // Before anything else: nothing but the handshake line may reach the real stdout.
  const stdio = new StdioCapture();
  const logger =
    options.logger ?? createPluginLogger({ write: (line) => stdio.writeRealStderr(line) });
  const debug = options.debug;
  const { handshake } = options;

  if (
    debug === undefined &&
    (handshake.magicCookieKey === "" || handshake.magicCookieValue === "")
  ) {
    await exitWith(
      stdio,
      1,
      "Misconfigured ServeConfig given to serve this plugin: no magic cookie\nkey or value was set. Please notify the plugin author and report\nthis as a bug.\n",
    );
  }
  if (debug === undefined && env[handshake.magicCookieKey] !== handshake.magicCookieValue) {
    await exitWith(stdio, 1, cookieMismatchMessage);
  }

  const versions = options.versions ?? { [handshake.protocolVersion ?? 1]: options.services ?? [] };
  const own = Object.keys(versions).map(Number);
  if (own.length === 0)
    throw new PluginError(
      "CONFIG_INVALID",
      "serve() needs at least one protocol version with services",
    );
  const protocolVersion = negotiateVersion(own, env[Env.protocolVersions], (entry) =>
    logger.warn(`server sent invalid plugin version "${entry}"`),
  );

  const clientCert = env[Env.clientCert];
  const useTls = clientCert !== undefined && clientCert !== "";
  const stopping = new AbortController();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  let identity: TlsIdentity | undefined;
  if (useTls) {
    assertCertificatePem(clientCert, Env.clientCert);
    identity = await generateTlsIdentity();
    logger.debug("configuring server automatic mTLS");
  }
  const tls = identity === undefined ? undefined : { identity, peerCertPem: clientCert! };
  const network: Network = options.network ?? (env[Env.network] === "tcp" ? "tcp" : "unix");
  const broker = new Broker({
    name: "plugin",
    network,
    env,
    tls,
    logger,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  });
  const rpc = new RpcServer({
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
    maxConcurrentCalls: options.maxConcurrentCalls,
    idleTimeoutMs: options.idleTimeoutMs,
    onHandlerError: (error, path) => logger.error("handler failed", { method: path, error }),
    broker,
  });
  rpc.register(
    healthService(),
    controllerService(() => void shutdown("shutdown requested by the host")),
    stdioService(stdio),
    brokerService(broker),
  );
  rpc.register(...(versions[protocolVersion] ?? []));
  rpc.register(...reflectionServices(() => rpc.services)); // grpc reflection, as Go plugins
  const onTlsError = (error: Error) =>
    logger.debug("TLS handshake with a client failed", { error });
  const serverCert = identity?.certRawBase64 ?? "";
  // Multiplexing is offered only when the host asks (PLUGIN_MULTIPLEX_GRPC parses as true).
  const muxRequested = env[Env.multiplexGrpc] ?? "";
  const muxOn = parseGoBool(muxRequested) === true;
  // The fast wire only when a plugwire host offers it, and not with multiplexing; a Go host
  // never offers it and gets exactly go-plugin's gRPC server.
  const fastWire = debug === undefined && !muxOn && env[Env.fastWire] === "1";
  let main: { readonly server: Server; close(): Promise<void> };
  let mux: ReturnType<typeof muxListener> | undefined;
  if (fastWire) {
    main = createDualListener(rpc, tls, onTlsError);
  } else {
    const grpc = createGrpcServer(rpc, tls, onTlsError);
    mux = muxOn
      ? muxListener(
          grpc.server,
          broker,
          () => void shutdown("the host did not connect within 5 s (multiplexed mode)"),
        )
      : undefined;
    main = {
      server: mux?.server ?? grpc.server,
      close: async () => {
        await grpc.close();
        await mux?.close();
      },
    };
  }

  let bound: BoundAddress;
  try {
    bound = await listen(main.server, { network, env });
  } catch (error) {
    const failure = PluginError.from(error, "CONFIG_INVALID");
    logger.error("plugin init error", { error: failure.message, code: failure.code });
    await exitWith(stdio, 1, "");
    throw failure;
  }
  const cleanupSocket = bound.cleanup;
  process.once("exit", cleanupSocket);
  logger.debug("plugin address", { network: bound.network, address: bound.address });

  let shuttingDown: Promise<void> | undefined;
  const exitProcess = options.exitProcess ?? true;
  const shutdown = (reason: string, exitCode = 0): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.debug("plugin shutting down", { reason });
      stopWatch();
      stopping.abort();
      rpc.abortAll(reason);
      await broker.close();
      await main.close();
      cleanupSocket();
      process.off("exit", cleanupSocket);
      process.off("SIGTERM", onSigterm);
      process.off("SIGINT", onSigint);
      stdio.restore();
      // Closed servers and sockets release their handles at the end of this loop turn: once
      // `closed` settles, nothing of the plugin server keeps the event loop alive.
      await afterLoopTurn();
      resolveClosed();
      if (exitProcess) {
        // Let the last log lines reach the host before the process ends.
        await new Promise<void>((resolve) => stdio.writeRealStderr("", () => resolve()));
        process.exit(exitCode);
      }
    })();
    return shuttingDown;
  };

  const stopWatch = watchParent(() => void shutdown("the host process is gone"));
  const onSigterm = () => void shutdown("SIGTERM", 143);
  let interrupts = 0;
  const onSigint = debug
    ? () => void shutdown("SIGINT", 130)
    : () => logger.trace("plugin received interrupt signal, ignoring", { count: ++interrupts });
  process.on("SIGTERM", onSigterm);
  process.on("SIGINT", onSigint);

  const line: Handshake = {
    protocolVersion,
    network: bound.network,
    address: bound.address,
    protocol: "grpc",
    serverCert,
    // Field 7 only when the host asked (older hosts would glue it onto the certificate).
    muxSupported: muxRequested === "" ? undefined : mux !== undefined,
    fastWire,
  };
  if (debug === undefined) {
    await stdio.writeRealStdout(`${formatHandshake(line)}\n`);
    stdio.captureStderr();
    mux?.awaitHost();
  } else {
    const reattach = {
      [debug.name]: {
        Protocol: "grpc",
        ProtocolVersion: protocolVersion,
        Pid: process.pid,
        Test: true,
        Addr: { Network: bound.network, String: bound.address },
      },
    };
    const envVar = debug.envVar ?? "PLUGWIRE_REATTACH";
    await stdio.writeRealStdout(
      `Plugin started. To attach a host, set the ${envVar} environment variable with the following:\n\n\t${envVar}='${JSON.stringify(reattach)}'\n\n`,
    );
  }

  return {
    protocolVersion,
    network: bound.network,
    address: bound.address,
    tls: useTls,
    closed,
    close: () => shutdown("closed by the plugin"),
    [Symbol.asyncDispose]: () => shutdown("disposed"),
  };
}

async function exitWith(stdio: StdioCapture, code: number, message: string): Promise<never> {
  await new Promise<void>((resolve) => stdio.writeRealStderr(message, () => resolve()));
  process.exit(code);
}
