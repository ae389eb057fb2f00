// What host and plugin agree on, as in go-plugin's examples/grpc/shared: the cookie and the service.
import type { HandshakeConfig } from "plugwire/plugin";
import { KV } from "./gen/kv_pb.js";

export const handshake: HandshakeConfig = {
  protocolVersion: 1,
  magicCookieKey: "BASIC_PLUGIN",
  magicCookieValue: "hello",
};

/** Plugin names a host dispenses; `kv_grpc` is the name go-plugin's example host uses. */
export const plugins = { kv: KV, kv_grpc: KV } as const;
