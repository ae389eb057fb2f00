// plugwire/rpc: the building blocks plugwire is made of, for libraries built on it: channels and
// servers of both wires, interceptors, the broker, handshake lines and AutoMTLS identities. A host
// needs none of this (`plugwire`), a plugin neither (`plugwire/plugin`). (Export order is kept by
// hand: biome.json leaves the entry files unsorted so each section stays under its comment.)
import "../internal/check-node.ts";

// Calls: the channel every typed client runs on, and what wraps it.
export type {
  BrokerDialOptions,
  BrokeredServer,
  BrokerServeOptions,
  CallOptions,
  Channel,
  Client,
  HandlerBroker,
  HandlerContext,
  ServeArgument,
  ServiceImpl,
  ServiceRegistration,
} from "./core/types.ts";
export { implement, methodPath } from "./core/types.ts";
export { createClient } from "./core/client.ts";
export type { CallNext, CallRequest, Interceptor } from "./core/interceptors.ts";
export {
  callThrough,
  channelOf,
  intercept,
  mapErrors,
  streamsResponses,
} from "./core/interceptors.ts";

// Wires: gRPC over node:http2, and plugwire's fast wire between two plugwire peers.
export type { RpcChannelOptions } from "./grpc/channel.ts";
export { RpcChannel } from "./grpc/channel.ts";
export type { H2ChannelOptions } from "./h2/client.ts";
export { H2Channel } from "./h2/client.ts";
export type { H2Listener } from "./h2/listener.ts";
export type { SecureServerFactory } from "./h2/listener.ts";
export { createH2Listener } from "./h2/listener.ts";
export type { GrpcFraming } from "./h2/framing-option.ts";
export { Router } from "./core/router.ts";
export type { RpcServerOptions } from "./grpc/server.ts";
export { RpcServer } from "./grpc/server.ts";
export type { GrpcServer } from "../transport/http2-server.ts";
export type { ServerTls } from "../transport/auto-mtls-server.ts";
export { autoMtlsServer, createAutoMtlsServer } from "../transport/auto-mtls-server.ts";
export { createGrpcServer } from "../transport/http2-server.ts";
export type { FastChannelOptions } from "./fast/channel.ts";
export { FastChannel } from "./fast/channel.ts";
export { FastServerConnection } from "./fast/server.ts";

// The broker: services and byte streams handed to the peer by id (go-plugin's GRPCBroker).
export type { BrokerOptions } from "../broker/broker.ts";
export { Broker } from "../broker/broker.ts";
export type { BrokerChannelOptions, BrokerWire } from "../broker/wires.ts";
export {
  fastBrokerWire,
  grpcBrokerWire,
  h2BrokerWire,
  nodeHttp2BrokerWire,
} from "../broker/wires.ts";
export type { ConnInfo, ConnInfo_Knock } from "../gen/plugin/grpc_broker_pb.js";

// The handshake line and AutoMTLS.
export type {
  Handshake,
  Network,
  ParsedHandshake,
  ParseHandshakeOptions,
  WireProtocol,
} from "../protocol/handshake-line.ts";
export { formatHandshake, parseHandshake } from "../protocol/handshake-line.ts";
export type { TlsIdentity } from "../transport/auto-mtls.ts";
export { generateTlsIdentity } from "../transport/auto-mtls.ts";

// Go's encoding/gob (net/rpc's encoding): the `go` schema builders, GobEncoder and GobDecoder.
export * as gob from "../gob/index.ts";

// net/rpc (Go's net/rpc with the gob codec, go-plugin's other protocol): NetRpcClient,
// NetRpcServer, and Go interfaces declared once (`netrpc.define`) with typed clients
// (`netrpcClient`) and implementations (`NetRpcImpl`). See docs/netrpc.md.
export type {
  ArgsOf,
  MethodsOf,
  NetRpcCallOptions,
  NetRpcClientOf,
  NetRpcClientOptions,
  NetRpcContext,
  NetRpcImpl,
  NetRpcInterface,
  NetRpcMethod,
  NetRpcMethods,
  NetRpcServeOptions,
  NetRpcServerOptions,
  ReplyOf,
} from "./netrpc/index.ts";
export { NetRpcClient, NetRpcServer, netrpc, netrpcClient } from "./netrpc/index.ts";
