import type { DescMethod, DescService, JsonValue } from "@bufbuild/protobuf";
import { createFileRegistry, fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { PluginError } from "../errors/plugin-error.ts";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { PluginInfo, Provider } from "../gen/plugwire/manifest/v1/manifest_pb.js";
import type { CallOptions } from "../rpc/core/types.ts";
import type { PluginManifest, ServiceClients } from "./manifest.ts";

const builtin: readonly DescService[] = [Health, PluginInfo, Provider];

/** Finds a service by full name in the plugin's published descriptors (or plugwire's own). */
export function findService(manifest: PluginManifest, name: string): DescService | undefined {
  const own = builtin.find((s) => s.typeName === name);
  if (own !== undefined) return own;
  if (manifest.descriptorSet === undefined) return undefined;
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, manifest.descriptorSet));
  return registry.getService(name);
}

/**
 * Calls `package.Service/Method` (unary or server streaming) with JSON input, using the
 * descriptors the plugin publishes in its manifest: no generated code on the host.
 */
export async function callJson(
  connection: ServiceClients,
  manifest: PluginManifest,
  target: string,
  input: JsonValue,
  options?: CallOptions,
): Promise<JsonValue | JsonValue[]> {
  const [serviceName = "", methodName = ""] = target.replace(/^\//, "").split("/");
  const service = findService(manifest, serviceName);
  if (service === undefined)
    throw new PluginError(
      "SERVICE_UNKNOWN",
      `plugin ${manifest.id} does not describe service ${JSON.stringify(serviceName)}` +
        (manifest.descriptorSet === undefined
          ? " (it publishes no descriptors; only providers can be called with JSON)"
          : ` (it describes: ${manifest.services.join(", ")})`),
    );
  const method: DescMethod | undefined = service.methods.find(
    (m) => m.name === methodName || m.localName === methodName,
  );
  if (method === undefined)
    throw new PluginError(
      "SERVICE_UNKNOWN",
      `service ${serviceName} has no method ${JSON.stringify(methodName)} (methods: ${service.methods.map((m) => m.name).join(", ")})`,
    );
  const request = fromJson(method.input, input);
  const client = connection.client(service) as unknown as Record<
    string,
    (input: unknown, options?: CallOptions) => unknown
  >;
  const fn = client[method.localName]!;
  switch (method.methodKind) {
    case "unary":
      return toJson(method.output, (await fn(request, options)) as never);
    case "server_streaming": {
      const out: JsonValue[] = [];
      for await (const message of fn(request, options) as AsyncIterable<never>)
        out.push(toJson(method.output, message));
      return out;
    }
    default:
      throw new PluginError(
        "UNIMPLEMENTED",
        `${target} is a ${method.methodKind} method; JSON calls support unary and server-streaming methods`,
      );
  }
}
