// plugwire's public API for hosts: launch, attach, call and stop plugins. Plugin authors import
// `plugwire/plugin`, the manager is `plugwire/manager`, the test kit `plugwire/testing`. Building
// blocks for libraries (channels, servers, the broker) come last. (Export order is kept by hand:
// biome.json leaves the entry files unsorted so each section stays under its comment.)
import "./internal/check-node.ts";

// Host: launch, attach, call, stop.
export type { AttachOptions, CommonOptions, PluginSet, StartOptions } from "./host/options.ts";
export type { HostEnvPolicy } from "./host/start/environment.ts";
export type {
  ExitInfo,
  PluginClientEvents,
  PluginClientState,
} from "./host/client/plugin-client.ts";
export { PluginClient } from "./host/client/plugin-client.ts";
export { attachPlugin, startPlugin } from "./host/start/start.ts";
export type { SecureConfig } from "./host/start/checksum.ts";
export { cleanupPlugins } from "./host/client/managed.ts";
export type { ReattachConfig } from "./host/start/reattach.ts";
export { formatReattachConfig, parseReattachConfigs } from "./host/start/reattach.ts";

// Typed services and calls.
export type {
  Awaitable,
  CallOptions,
  Channel,
  Client,
  HandlerContext,
  In,
  Init,
  Out,
  ServiceImpl,
  ServiceRegistration,
  Shape,
} from "./rpc/core/types.ts";
export { implement } from "./rpc/core/types.ts";

// Errors and logging.
export type { PluginErrorCode, PluginErrorOptions } from "./errors/plugin-error.ts";
export { ErrorCode, PluginError } from "./errors/plugin-error.ts";
export type { GrpcStatusName } from "./errors/grpc-status.ts";
export { GrpcStatus } from "./errors/grpc-status.ts";
export type { ConsoleLoggerOptions } from "./host/client/console-logger.ts";
export { createConsoleLogger } from "./host/client/console-logger.ts";
export type { Logger, LogLevel } from "./protocol/hclog.ts";
export { logLevels } from "./protocol/hclog.ts";

// The plugin side, also at `plugwire/plugin` (which is what a plugin should import).
export type { PluginLoggerOptions } from "./plugin/logger.ts";
export { createPluginLogger } from "./plugin/logger.ts";
export type { PluginServer, ServeOptions } from "./plugin/serve/serve.ts";
export { serve } from "./plugin/serve/serve.ts";
export type { HandshakeConfig } from "./protocol/env.ts";

// Building blocks for libraries built on plugwire.
export type { BrokeredServer, BrokerOptions } from "./broker/broker.ts";
export { Broker } from "./broker/broker.ts";
export type { ConnInfo, ConnInfo_Knock } from "./gen/plugin/grpc_broker_pb.js";
export type { ServerTls } from "./rpc/grpc/http2-server.ts";
export type {
  Handshake,
  Network,
  ParsedHandshake,
  ParseHandshakeOptions,
  WireProtocol,
} from "./protocol/handshake-line.ts";
export { formatHandshake, parseHandshake } from "./protocol/handshake-line.ts";
export type { RpcChannelOptions } from "./rpc/grpc/channel.ts";
export { RpcChannel } from "./rpc/grpc/channel.ts";
export { createClient } from "./rpc/core/client.ts";
export type { RpcServerOptions } from "./rpc/grpc/server.ts";
export { RpcServer } from "./rpc/grpc/server.ts";
export type { TlsIdentity } from "./transport/auto-mtls.ts";
export { generateTlsIdentity } from "./transport/auto-mtls.ts";
