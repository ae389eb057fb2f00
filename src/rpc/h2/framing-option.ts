/**
 * Which HTTP/2 carries gRPC: Node's `node:http2` (the default) or plugwire's own framing
 * (this folder). Read from `PLUGWIRE_GRPC_FRAMING` (`h2` selects ours) so that a test run can
 * put every gRPC connection of a process on it; the host and plugin options that choose it per
 * connection are wired above the transports (docs/transport.md).
 */
export type GrpcFraming = "node-http2" | "h2";

/** The framing `PLUGWIRE_GRPC_FRAMING` selects; anything but `h2` keeps node:http2. */
export function grpcFramingFromEnv(env: NodeJS.ProcessEnv = process.env): GrpcFraming {
  return env.PLUGWIRE_GRPC_FRAMING === "h2" ? "h2" : "node-http2";
}
