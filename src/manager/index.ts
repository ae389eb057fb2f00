// The plugin manager: discovery, registry, supervision, drivers from config, sources.
import "../internal/check-node.ts";

export type { BreakerPolicy, RestartPolicy } from "./backoff.ts";
export type { Candidate, DiscoveryRun, SkipReason } from "./candidates.ts";
export { classify, listCandidates } from "./candidates.ts";
export type { HostConfig, ManagerConfig, ServiceConfig } from "./config.ts";
export { driverKey, loadConfig, parseConfig } from "./config.ts";
export type { Connection, ConnectionInfo } from "./connection.ts";
export { processConnection } from "./connection.ts";
export type {
  DiscoverOptions,
  DiscoveryResult,
  Found,
  Skipped,
  SuperviseOptions,
} from "./discovery.ts";
export { discoverPlugins } from "./discovery.ts";
export type { DriverSource, InProcessDriver } from "./drivers.ts";
export { resolveDriver } from "./drivers.ts";
export type { InProcessOptions } from "./in-process.ts";
export { connectInProcess } from "./in-process.ts";
export { callJson, findService } from "./json-call.ts";
export type { ProcessSpec } from "./launch-process.ts";
export { launchProcess, settingsEnv } from "./launch-process.ts";
export type {
  ManagedPluginEvents,
  ManagedPluginOptions,
  ManagedPluginState,
  ManagedPluginStateName,
} from "./managed-plugin.ts";
export { ManagedPlugin } from "./managed-plugin.ts";
export type { PluginManifest, ProviderInfo } from "./manifest.ts";
export { fetchManifest, minimalManifest } from "./manifest.ts";
export type { PackageManifest } from "./package-manifest.ts";
export { findPackageManifest, readPackageManifest } from "./package-manifest.ts";
export type {
  ManifestInfo,
  ProviderDefinition,
  ProviderServicesOptions,
} from "./provider-services.ts";
export { providerServices } from "./provider-services.ts";
export type { JsonValue } from "./registry.ts";
export { PluginRegistry } from "./registry.ts";
export type { ServeProvidersOptions } from "./serve-providers.ts";
export { driverSettings, serveProviders } from "./serve-providers.ts";
export type { ServiceManagerOptions } from "./service-manager.ts";
export { ServiceManager } from "./service-manager.ts";
export type { BuildOptions, BuildResult, SourceLanguage } from "./sources/build-source.ts";
export { buildSource } from "./sources/build-source.ts";
export type { GitCheckout, GitFetchOptions } from "./sources/git-source.ts";
export { fetchGit, isGitUrl } from "./sources/git-source.ts";
