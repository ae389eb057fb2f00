// plugwire's public API for hosts: launch, attach, call and stop plugins, and observe them. Plugin
// authors import `plugwire/plugin`, the manager is `plugwire/manager`, the test kit
// `plugwire/testing`, and the building blocks for libraries (channels, servers, the broker,
// interceptors) are `plugwire/rpc`. (Export order is kept by hand: biome.json leaves the entry
// files unsorted so each section stays under its comment.)
import "./internal/check-node.ts";

// Host: launch, attach, call, stop.
export type {
  AttachOptions,
  ClientSets,
  CommonOptions,
  Dispensed,
  PluginEntry,
  PluginEntryOf,
  PluginName,
  PluginSet,
  StartOptions,
  VersionedPlugins,
} from "./host/options.ts";
export type { HostEnvPolicy } from "./host/start/environment.ts";
export type { GrpcFraming } from "./rpc/h2/framing-option.ts";
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
  BrokerDialOptions,
  BrokeredServer,
  BrokerServeOptions,
  CallOptions,
  Channel,
  Client,
  HandlerBroker,
  HandlerContext,
  In,
  Init,
  Out,
  ServeArgument,
  ServiceImpl,
  ServiceRegistration,
  Shape,
} from "./rpc/core/types.ts";
export { implement } from "./rpc/core/types.ts";
export { createClient } from "./rpc/core/client.ts";

// go-plugin's net/rpc protocol: Go interfaces declared once (`netrpc.define`, with gob's `go.*`
// schema) in a plugin set, dispensed by name; `PluginClient.muxBroker` for callbacks both ways.
export type { GoInterface, GoType, GoValue } from "./gob/index.ts";
export { go } from "./gob/index.ts";
export type {
  ArgsOf,
  MethodsOf,
  NetRpcCallOptions,
  NetRpcClientOf,
  NetRpcContext,
  NetRpcImpl,
  NetRpcInterface,
  ReplyOf,
} from "./rpc/netrpc/index.ts";
export { netrpc } from "./rpc/netrpc/index.ts";
export type {
  MuxBroker,
  MuxHandlerContext,
  MuxImpl,
  MuxBrokerClientOptions,
  MuxBrokerWaitOptions,
  MuxServed,
} from "./broker/mux-broker.ts";

// Errors and logging.
export type { PluginErrorCode, PluginErrorOptions } from "./errors/plugin-error.ts";
export { ErrorCode, PluginError } from "./errors/plugin-error.ts";
export type { GrpcStatusName } from "./errors/grpc-status.ts";
export { GrpcStatus } from "./errors/grpc-status.ts";
export type { ConsoleLoggerOptions } from "./host/client/console-logger.ts";
export { createConsoleLogger } from "./host/client/console-logger.ts";
export type { Logger, LogLevel } from "./protocol/hclog.ts";
export { logLevels } from "./protocol/hclog.ts";

// Diagnostics: `node:diagnostics_channel` channels to observe plugins and calls (docs/diagnostics.md).
export type {
  CallMessage,
  ExitMessage,
  RestartMessage,
  StartMessage,
} from "./internal/diagnostics.ts";
export { diagnosticsChannelNames } from "./internal/diagnostics.ts";
