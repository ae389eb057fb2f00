import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import { Provider } from "../gen/plugwire/manifest/v1/manifest_pb.js";
import type { ProviderInfo } from "../providers/manifest.ts";
import type { CallOptions, Client } from "../rpc/core/types.ts";
import type { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import type { DiscoverOptions, DiscoveryResult } from "./discovery.ts";
import { discoverPlugins } from "./discovery.ts";

/** A JSON value, as providers take and return. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * The plugins a host knows, by id: who provides what, named providers callable with JSON, and one
 * place to stop them all. Manifests stay known while a plugin is stopped, crashed or disabled.
 */
export class PluginRegistry {
  readonly #plugins = new Map<string, ManagedPlugin>();

  /** Registers a plugin; its id must be new. */
  add(plugin: ManagedPlugin): this {
    if (this.#plugins.has(plugin.id))
      throw new PluginError(
        "CONFIG_INVALID",
        `a plugin with id ${plugin.id} is already registered`,
      );
    this.#plugins.set(plugin.id, plugin);
    return this;
  }

  /** Scans for plugins and registers those that work; returns the full result (skips included). */
  async discover(options: DiscoverOptions): Promise<DiscoveryResult> {
    const result = await discoverPlugins(options);
    for (const found of result.found) {
      if (this.#plugins.has(found.plugin.id)) await found.plugin.close();
      else this.add(found.plugin);
    }
    return result;
  }

  get(id: string): ManagedPlugin | undefined {
    return this.#plugins.get(id);
  }

  /** Every registered plugin, in registration order. */
  list(): ManagedPlugin[] {
    return [...this.#plugins.values()];
  }

  /** Removes a plugin and stops it. */
  async remove(id: string): Promise<void> {
    const plugin = this.#plugins.get(id);
    this.#plugins.delete(id);
    await plugin?.close();
  }

  /** The plugins that serve a gRPC service (by descriptor or full name) or expose a named provider. */
  whoProvides(what: DescService | string): ManagedPlugin[] {
    const name = typeof what === "string" ? what : what.typeName;
    return this.list().filter(
      (p) =>
        p.manifest.services.includes(name) || p.manifest.providers.some((v) => v.name === name),
    );
  }

  /** Every named provider, with the plugin that exposes it. */
  providers(): Array<{ plugin: ManagedPlugin; provider: ProviderInfo }> {
    return this.list().flatMap((plugin) =>
      plugin.manifest.providers.map((provider) => ({ plugin, provider })),
    );
  }

  /** A typed client for a service, from the first plugin that serves it (and is not disabled). */
  service<S extends DescService>(service: S): Client<S> {
    const plugins = this.whoProvides(service);
    const plugin = plugins.find((p) => p.state.t !== "disabled") ?? plugins[0];
    if (plugin === undefined)
      throw new PluginError(
        "PROVIDER_UNKNOWN",
        `no registered plugin serves ${service.typeName} (registered: ${this.#ids()})`,
      );
    return plugin.client(service);
  }

  /**
   * Calls a named provider with JSON input, no generated code needed (scafctl's ExecuteProvider).
   * `name` is `provider` or `plugin-id/provider`.
   */
  async callProvider(name: string, input: JsonValue, options?: CallOptions): Promise<JsonValue> {
    if (!this.providers().some(({ provider }) => provider.name === name.split("/").pop()))
      await this.learnManifests(options?.timeoutMs);
    const slash = name.indexOf("/");
    const pluginId = slash < 0 ? undefined : name.slice(0, slash);
    const providerName = slash < 0 ? name : name.slice(slash + 1);
    const candidates = this.providers().filter(
      ({ plugin, provider }) =>
        provider.name === providerName && (pluginId === undefined || plugin.id === pluginId),
    );
    const match = candidates.find(({ plugin }) => plugin.state.t !== "disabled") ?? candidates[0];
    if (match === undefined) {
      const known = this.providers().map(({ plugin, provider }) => `${plugin.id}/${provider.name}`);
      throw new PluginError(
        "PROVIDER_UNKNOWN",
        `no plugin provides ${JSON.stringify(name)} (known providers: ${known.join(", ") || "none"})`,
      );
    }
    const response = await match.plugin
      .client(Provider)
      .execute({ name: providerName, inputJson: JSON.stringify(input) }, options);
    return response.outputJson === "" ? null : (JSON.parse(response.outputJson) as JsonValue);
  }

  /**
   * Starts the plugins never seen running, to learn what they provide from their manifests (a
   * lazily started plugin is known only by its file until then). Failures are left to the state.
   */
  async learnManifests(waitMs?: number): Promise<void> {
    const unknown = this.list().filter(
      (p) => p.manifest.origin !== "plugin" && p.state.t === "stopped",
    );
    await Promise.allSettled(unknown.map((p) => p.ready(waitMs)));
  }

  /** Stops every plugin, in parallel; the registry stays usable (calls start them again). */
  async stopAll(): Promise<void> {
    await Promise.allSettled(this.list().map((p) => p.stop()));
  }

  /** Stops every plugin for good. */
  async close(): Promise<void> {
    await Promise.allSettled(this.list().map((p) => p.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ids(): string {
    return [...this.#plugins.keys()].join(", ") || "none";
  }
}
