import type { DescFile, DescService } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { PluginError } from "../errors/plugin-error.ts";
import type { ProviderDescriptor } from "../gen/plugwire/manifest/v1/manifest_pb.js";
import { PluginInfo, Provider } from "../gen/plugwire/manifest/v1/manifest_pb.js";
import type { HandlerContext, ServiceRegistration } from "../rpc/core/types.ts";
import { implement } from "../rpc/core/types.ts";
import { checkInput } from "./schema-check.ts";

/** A named provider, as a plugin author writes it. */
export interface ProviderDefinition {
  description?: string | undefined;
  version?: string | undefined;
  /** JSON Schema of the input; `type` and `required` are checked before `execute` runs. */
  inputSchema?: Record<string, unknown> | undefined;
  outputSchema?: Record<string, unknown> | undefined;
  capabilities?: readonly string[] | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: provider input is whatever JSON the schema allows
  execute(input: any, context: HandlerContext): unknown;
}

/** What a plugin says about itself. */
export interface ManifestInfo {
  id: string;
  name?: string | undefined;
  version?: string | undefined;
  author?: string | undefined;
  description?: string | undefined;
}

export interface ProviderServicesOptions {
  manifest: ManifestInfo;
  /** Named providers, served through plugwire.manifest.v1.Provider. */
  providers?: Readonly<Record<string, ProviderDefinition>> | undefined;
  /** Typed services the plugin serves too; listed (with descriptors) in the manifest. */
  services?: ReadonlyArray<ServiceRegistration<DescService>> | undefined;
}

/**
 * The registrations that make a plugin describe itself to plugwire hosts: PluginInfo (manifest,
 * with descriptors so hosts can call its services with JSON) and Provider (named providers), plus
 * the plugin's own services. Use with `serve()` or in process.
 */
export function providerServices(
  options: ProviderServicesOptions,
): Array<ServiceRegistration<DescService>> {
  const providers = options.providers ?? {};
  const services = options.services ?? [];
  const described = services.map((s) => s.service);
  if (Object.keys(providers).length > 0) described.push(Provider);
  const descriptors = Object.entries(providers).map(([name, p]) => describe(name, p));
  const descriptorSet = toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: filesOf(described) }),
  );
  const { manifest } = options;
  const info = implement(PluginInfo, {
    getManifest: () => ({
      id: manifest.id,
      name: manifest.name ?? manifest.id,
      version: manifest.version ?? "",
      author: manifest.author ?? "",
      description: manifest.description ?? "",
      services: described.map((s) => s.typeName),
      providers: descriptors,
      descriptorSet,
    }),
  });
  const find = (name: string) => {
    const provider = providers[name];
    if (provider === undefined)
      throw new PluginError(
        "NOT_FOUND",
        `no provider ${JSON.stringify(name)} (this plugin provides: ${Object.keys(providers).join(", ") || "none"})`,
      );
    return provider;
  };
  const provider = implement(Provider, {
    listProviders: () => ({ names: Object.keys(providers) }),
    describeProvider: ({ name }) => describe(name, find(name)),
    async execute({ name, inputJson }, context) {
      const definition = find(name);
      let input: unknown;
      try {
        input = inputJson === "" ? {} : JSON.parse(inputJson);
      } catch (error) {
        throw new PluginError("INVALID_ARGUMENT", `input is not JSON: ${(error as Error).message}`);
      }
      if (definition.inputSchema !== undefined) checkInput(definition.inputSchema, input, name);
      const output = await definition.execute(input, context);
      return { outputJson: JSON.stringify(output ?? null) };
    },
  });
  return [info, provider, ...services];
}

function describe(name: string, p: ProviderDefinition): ProviderDescriptor {
  return {
    $typeName: "plugwire.manifest.v1.ProviderDescriptor",
    name,
    description: p.description ?? "",
    version: p.version ?? "",
    inputSchemaJson: p.inputSchema === undefined ? "" : JSON.stringify(p.inputSchema),
    outputSchemaJson: p.outputSchema === undefined ? "" : JSON.stringify(p.outputSchema),
    capabilities: [...(p.capabilities ?? [])],
    labels: { ...p.labels },
  };
}

/** The files declaring `services`, dependencies first, each once. */
function filesOf(services: readonly DescService[]): FileDescriptorProto[] {
  const seen = new Set<string>();
  const out: FileDescriptorProto[] = [];
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dep of file.dependencies) visit(dep);
    out.push(file.proto);
  };
  for (const service of services) visit(service.file);
  return out;
}
