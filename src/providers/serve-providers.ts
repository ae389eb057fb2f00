import type { PluginServer, ServeOptions } from "../plugin/serve/serve.ts";
import { serve } from "../plugin/serve/serve.ts";
import type { ProviderServicesOptions } from "./provider-services.ts";
import { providerServices } from "./provider-services.ts";

export interface ServeProvidersOptions
  extends Omit<ServeOptions, "services" | "versions">,
    ProviderServicesOptions {}

/**
 * `serve()` for plugins that describe themselves: the manifest (id, version, services with
 * descriptors), named providers callable with JSON, and any typed services.
 *
 * @example
 * await serveProviders({
 *   handshake,
 *   manifest: { id: "example.echo", version: "1.0.0" },
 *   providers: { echo: { inputSchema: { type: "object" }, execute: (input) => input } },
 * });
 */
export function serveProviders(options: ServeProvidersOptions): Promise<PluginServer> {
  const { manifest, providers, services, ...rest } = options;
  return serve({ ...rest, services: providerServices({ manifest, providers, services }) });
}
