import { PluginError } from "../../errors/plugin-error.ts";

/**
 * Which HTTP/2 carries gRPC: plugwire's own framing (this folder, the default) or Node's
 * `node:http2`. A host chooses with `StartOptions.grpcFraming`, a plugin with
 * `ServeOptions.grpcFraming`; `PLUGWIRE_GRPC_FRAMING` sets the default of a whole process (so a
 * test run can put every gRPC connection on one of them). docs/transport.md says why h2 is the
 * default and when to pick node:http2.
 */
export type GrpcFraming = "h2" | "node-http2";

const framings: readonly string[] = ["h2", "node-http2"];

/**
 * The framing to use: the option when given, else `PLUGWIRE_GRPC_FRAMING`, else `h2`. A value
 * that names neither framing is CONFIG_INVALID (a typo must not silently pick one).
 */
export function resolveGrpcFraming(
  option?: GrpcFraming | undefined,
  env: NodeJS.ProcessEnv = process.env,
): GrpcFraming {
  const value = option ?? env.PLUGWIRE_GRPC_FRAMING;
  if (value === undefined || value === "") return "h2";
  if (framings.includes(value)) return value as GrpcFraming;
  const from = option === undefined ? "PLUGWIRE_GRPC_FRAMING" : "grpcFraming";
  throw new PluginError(
    "CONFIG_INVALID",
    `${from} is ${JSON.stringify(value)}: use "h2" (plugwire's HTTP/2, the default) or "node-http2"`,
  );
}
