// Go's net/rpc with its gob codec (go-plugin's other protocol): a client and a server over any
// node Duplex, and Go interfaces declared once with typed clients and implementations derived
// from them. See docs/netrpc.md.
export type { NetRpcCallOptions, NetRpcClientOptions } from "./client.ts";
export { NetRpcClient } from "./client.ts";
export type {
  ArgsOf,
  MethodsOf,
  NetRpcClientOf,
  NetRpcContext,
  NetRpcImpl,
  NetRpcInterface,
  NetRpcMethod,
  NetRpcMethods,
  ReplyOf,
} from "./define.ts";
export { define, netrpc } from "./define.ts";
export type { NetRpcServeOptions, NetRpcServerOptions } from "./server.ts";
export { NetRpcServer } from "./server.ts";
export { netrpcClient } from "./typed-client.ts";
