import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import type {
  Manifest,
  ProviderDescriptor as ProviderDescriptorMessage,
} from "../gen/plugwire/manifest/v1/manifest_pb.js";
import { PluginInfo } from "../gen/plugwire/manifest/v1/manifest_pb.js";
import type { Client } from "../rpc/core/types.ts";

/**
 * What manifests and JSON calls need of a running plugin: its typed clients. A supervisor's
 * `Connection` and a `PluginClient` both are one.
 */
export interface ServiceClients {
  client<S extends DescService>(service: S): Client<S>;
}

/** A named provider a plugin exposes (scafctl's provider descriptor). */
export interface ProviderInfo {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  /** JSON Schema of the input, parsed; undefined when the plugin publishes none. */
  readonly inputSchema: unknown;
  readonly outputSchema: unknown;
  readonly capabilities: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** What the manager knows about a plugin; kept when the plugin crashes or is stopped. */
export interface PluginManifest {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly author: string;
  readonly description: string;
  /** Fully qualified gRPC service names; empty when unknown. */
  readonly services: readonly string[];
  readonly providers: readonly ProviderInfo[];
  /** Serialized FileDescriptorSet for `services`, when the plugin publishes it. */
  readonly descriptorSet?: Uint8Array | undefined;
  /** go-plugin's protocol the plugin spoke when it last ran; undefined until it has run. */
  readonly protocol?: "grpc" | "netrpc" | undefined;
  /**
   * Where the manifest came from: the running plugin (`plugin`), its package manifest file
   * (`package`), host configuration (`config`), or only its file name (`minimal`).
   */
  readonly origin: "plugin" | "package" | "config" | "minimal";
}

/** The manifest of a plugin known only by name: services unknown. */
export function minimalManifest(id: string): PluginManifest {
  return {
    id,
    name: id,
    version: "",
    author: "",
    description: "",
    services: [],
    providers: [],
    origin: "minimal",
  };
}

function parseSchema(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function providerFromMessage(message: ProviderDescriptorMessage): ProviderInfo {
  return {
    name: message.name,
    description: message.description,
    version: message.version,
    inputSchema: parseSchema(message.inputSchemaJson),
    outputSchema: parseSchema(message.outputSchemaJson),
    capabilities: [...message.capabilities],
    labels: { ...message.labels },
  };
}

/**
 * Merges what the plugin says about itself over what was known before (file or config). The id
 * stays the one the host knows it by, once it was given one.
 */
export function manifestFromMessage(message: Manifest, fallback: PluginManifest): PluginManifest {
  return {
    // A package file or the host's config names the plugin; only a bare executable names itself.
    id: fallback.origin === "minimal" ? message.id || fallback.id : fallback.id,
    name: message.name || fallback.name,
    version: message.version || fallback.version,
    author: message.author || fallback.author,
    description: message.description || fallback.description,
    services: message.services.length > 0 ? [...message.services] : fallback.services,
    providers:
      message.providers.length > 0
        ? message.providers.map(providerFromMessage)
        : fallback.providers,
    descriptorSet:
      message.descriptorSet.length > 0 ? message.descriptorSet : fallback.descriptorSet,
    protocol: fallback.protocol,
    origin: "plugin",
  };
}

/**
 * Asks a running plugin for its manifest (plugwire.manifest.v1.PluginInfo). Plugins that do not
 * serve it (go-plugin plugins in Go, for one) keep `fallback`, and so do net/rpc plugins (no
 * gRPC service to ask). A connection that tells its protocol has it recorded in the manifest.
 * `signal` cancels the call.
 */
export async function fetchManifest(
  connection: ServiceClients & { readonly info?: { readonly protocol: "grpc" | "netrpc" } },
  known: PluginManifest,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PluginManifest> {
  const protocol = connection.info?.protocol ?? known.protocol;
  const fallback = protocol === known.protocol ? known : { ...known, protocol };
  if (protocol === "netrpc") return fallback;
  try {
    const message = await connection.client(PluginInfo).getManifest({}, { timeoutMs, signal });
    return manifestFromMessage(message, fallback);
  } catch (error) {
    const failure = PluginError.from(error);
    if (failure.code === "UNIMPLEMENTED") return fallback;
    throw failure;
  }
}
