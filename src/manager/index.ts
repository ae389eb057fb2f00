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
export type { VerifiedLaunch } from "../lock/launch-check.ts";
export { lockedArtifactPath, secureFromLock, verifyLaunch } from "../lock/launch-check.ts";
export type {
  FieldChange,
  LockChange,
  LockEntry,
  LockField,
  Lockfile,
  ResolvedArtifact,
} from "../lock/lock-file.ts";
export {
  checkLockEntry,
  diffLocks,
  emptyLock,
  formatLock,
  formatLockChanges,
  lockedEntry,
  lockFileFor,
  lockFileName,
  parseLock,
  readLock,
  updateLock,
  writeLock,
} from "../lock/lock-file.ts";
export { formatSha256Sums, parseSha256Sums, sha256File } from "../trust/sha256sums.ts";
export type { SshPrivateKey, SshPublicKey } from "../trust/ssh-keys.ts";
export { formatPublicKey, parsePrivateKey } from "../trust/ssh-keys.ts";
export type { SshSigHash, SshSignature } from "../trust/sshsig.ts";
export {
  parseSignature,
  signatureMatches,
  signatureNamespace,
  signMessage,
} from "../trust/sshsig.ts";
export type { ConfigFail, TrustSettings } from "../trust/trust-config.ts";
export { parseTrustSettings, trustPolicy } from "../trust/trust-config.ts";
export type {
  ArtifactVerification,
  SignaturePolicy,
  TrustPolicy,
  VerifyArtifactOptions,
} from "../trust/trust-policy.ts";
export { checkSignature, verifyArtifact } from "../trust/trust-policy.ts";
export type { TrustedKey } from "../trust/trusted-keys.ts";
export { parseTrustedKeys, readTrustedKeys } from "../trust/trusted-keys.ts";
export type {
  PluginReference,
  ResolveOptions,
  VersionCandidate,
} from "../versions/constraint.ts";
export {
  checkRange,
  parseReference,
  resolveVersion,
  versionCandidates,
} from "../versions/constraint.ts";
export type { Engines, HostVersions, Incompatibility } from "../versions/engines.ts";
export { checkCompatibility, parseEngines } from "../versions/engines.ts";
