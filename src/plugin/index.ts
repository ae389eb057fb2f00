// The plugin author's entry (`plugwire/plugin`): everything a plugin needs and nothing a host
// needs (a plugin process loads fewer modules; measured start-up within noise of the full entry).
import "../internal/check-node.ts";
// On import, in a process a host launched: stdout is held until the handshake line is out.
import "./hold-stdout.ts";

export type { PluginErrorCode } from "../errors/plugin-error.ts";
export { ErrorCode, PluginError } from "../errors/plugin-error.ts";
export type { HandshakeConfig } from "../protocol/env.ts";
export type { Logger, LogLevel } from "../protocol/hclog.ts";
export type {
  BrokerDialOptions,
  BrokeredServer,
  BrokerServeOptions,
  HandlerBroker,
  HandlerContext,
  ServeArgument,
  ServiceImpl,
  ServiceRegistration,
} from "../rpc/core/types.ts";
export { implement } from "../rpc/core/types.ts";
export type { PluginLoggerOptions } from "./serve/logger.ts";
export { createPluginLogger } from "./serve/logger.ts";
export type { PluginServer, ServeOptions } from "./serve/serve.ts";
export type { GrpcFraming } from "../rpc/h2/framing-option.ts";
export { serve } from "./serve/serve.ts";
export type { ServiceList, VersionSet } from "./serve/version.ts";

// go-plugin's net/rpc protocol: plugins declared as Go interfaces (`netrpc.define`), served by
// name (`serve({ plugins })`), with the connection's MuxBroker for callbacks both ways.
export type { GoInterface, GoType, GoValue } from "../gob/index.ts";
export { go } from "../gob/index.ts";
export type {
  ArgsOf,
  MethodsOf,
  NetRpcClientOf,
  NetRpcContext,
  NetRpcImpl,
  NetRpcInterface,
  ReplyOf,
} from "../rpc/netrpc/index.ts";
export { netrpc } from "../rpc/netrpc/index.ts";
export type {
  MuxBroker,
  MuxHandlerContext,
  MuxImpl,
  MuxBrokerClientOptions,
  MuxBrokerWaitOptions,
  MuxServed,
} from "../broker/mux-broker.ts";
export type { NetRpcPlugin, NetRpcPlugins } from "./serve/netrpc-plugins.ts";
export { netrpcPlugin } from "./serve/netrpc-plugins.ts";
