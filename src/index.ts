// plugwire's public API. Symbols for hosts and plugin authors come first; building blocks for
// libraries (transport, wire helpers) after.
import "./internal/check-node.ts";

// Errors and logging.
export type { PluginErrorCode, PluginErrorOptions } from "./errors/plugin-error.ts";
export { ErrorCode, PluginError } from "./errors/plugin-error.ts";
export type { SecureConfig } from "./host/checksum.ts";
export { createConsoleLogger } from "./host/console-logger.ts";
export { cleanupPlugins } from "./host/managed.ts";
export type { AttachOptions, CommonOptions, PluginSet, StartOptions } from "./host/options.ts";
export type { ExitInfo, PluginClientEvents, PluginClientState } from "./host/plugin-client.ts";
export { PluginClient } from "./host/plugin-client.ts";
export type { ReattachConfig } from "./host/reattach.ts";
export { formatReattachConfig, parseReattachConfigs } from "./host/reattach.ts";
// Host: launch, attach, call, stop.
export { attachPlugin, startPlugin } from "./host/start.ts";
export type { PluginLoggerOptions } from "./plugin/logger.ts";
export { createPluginLogger } from "./plugin/logger.ts";
// Plugin side: serve services to go-plugin and plugwire hosts.
export type { PluginServer, ServeOptions } from "./plugin/serve.ts";
export { serve } from "./plugin/serve.ts";
export type { HandshakeConfig } from "./protocol/env.ts";
export type { Handshake, Network } from "./protocol/handshake-line.ts";
export { formatHandshake, parseHandshake } from "./protocol/handshake-line.ts";
export type { Logger, LogLevel } from "./protocol/hclog.ts";
export type { RpcChannelOptions } from "./rpc/channel.ts";
// Building blocks for libraries built on plugwire.
export { RpcChannel } from "./rpc/channel.ts";
export { createClient } from "./rpc/client.ts";
export type { RpcServerOptions } from "./rpc/server.ts";
export { RpcServer } from "./rpc/server.ts";
export { GrpcStatus } from "./rpc/status.ts";
// Typed services and calls.
export type {
  CallOptions,
  Client,
  HandlerContext,
  ServiceImpl,
  ServiceRegistration,
} from "./rpc/types.ts";
export { implement } from "./rpc/types.ts";
export type { TlsIdentity } from "./tls/auto-mtls.ts";
export { generateTlsIdentity } from "./tls/auto-mtls.ts";
