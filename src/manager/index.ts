// plugwire/manager: everything above one plugin connection. Discovery finds plugins, the
// registry knows them, supervision keeps them running, config names drivers and sources build
// them, providers describe them; lock files, trust and versions pin what may run.
import "../internal/check-node.ts";

// Discovery: scan folders for plugin executables and packages, start each to learn what it is.
export type { Candidate, DiscoveryRun, SkipReason } from "../discovery/candidates.ts";
export { classify, listCandidates } from "../discovery/candidates.ts";
export type {
  DiscoverOptions,
  DiscoveryResult,
  Found,
  Skipped,
  SuperviseOptions,
} from "../discovery/discovery.ts";
export { discoverPlugins } from "../discovery/discovery.ts";
export type { PackageManifest } from "../discovery/package-manifest.ts";
export { findPackageManifest, readPackageManifest } from "../discovery/package-manifest.ts";

// Registry: the plugins a host knows, by id; who provides what; named providers called with JSON.
export type { JsonValue } from "../discovery/registry.ts";
export { PluginRegistry } from "../discovery/registry.ts";

// Supervision: one plugin started on first use, pinged, restarted after a crash, disabled by the
// crash-loop breaker; the connections it runs over (a process, or an implementation in process).
export type { Connection, ConnectionInfo } from "../supervisor/connection.ts";
export { processConnection } from "../supervisor/connection.ts";
export type { InProcessOptions } from "../supervisor/in-process.ts";
export { connectInProcess } from "../supervisor/in-process.ts";
export type { ProcessSpec } from "../supervisor/launch-process.ts";
export { launchProcess } from "../supervisor/launch-process.ts";
export type {
  ManagedPluginEvents,
  ManagedPluginOptions,
  ManagedPluginState,
  ManagedPluginStateName,
} from "../supervisor/managed-plugin.ts";
export { ManagedPlugin } from "../supervisor/managed-plugin.ts";
export type { BreakerPolicy, RestartPolicy } from "../supervisor/restart-policy.ts";

// Config and drivers: a host's plugwire.toml, each service backed by its driver.
export type { HostConfig, ManagerConfig, ServiceConfig } from "../config/config.ts";
export { driverKey, loadConfig, parseConfig } from "../config/config.ts";
export type { DriverSource, InProcessDriver } from "../config/drivers.ts";
export { resolveDriver } from "../config/drivers.ts";
export type { ServiceManagerOptions } from "../config/service-manager.ts";
export { ServiceManager } from "../config/service-manager.ts";

// Sources: plugins built from a source folder, or fetched from git first.
export type { BuildOptions, BuildResult, SourceLanguage } from "../sources/build-source.ts";
export { buildSource } from "../sources/build-source.ts";
export type { GitCheckout, GitFetchOptions } from "../sources/git-source.ts";
export { fetchGit, isGitUrl } from "../sources/git-source.ts";
// Sources by name and version: npm packages, Go modules, git tags, HTTPS release archives.
export type {
  ArchiveSpec,
  FetchedSource,
  FetchOptions,
  FolderSpec,
  GitSpec,
  GoSpec,
  NpmSpec,
  PathSpec,
  ResolvedSource,
  ResolveOptions as SourceResolveOptions,
  SourceKind,
  SourceSpec,
} from "../sources/resolve.ts";
export {
  availableVersions,
  fetchSource,
  parseSource,
  resolveSource,
  sourceLabel,
} from "../sources/resolve.ts";

// Providers: how a plugin describes itself (manifest, named providers, descriptors), on both
// sides: serving it in a plugin, reading it and calling with JSON in a host; driver settings.
export { driverSettings, settingsEnv } from "../providers/driver-settings.ts";
export { callJson, findService } from "../providers/json-call.ts";
export type { PluginManifest, ProviderInfo, ServiceClients } from "../providers/manifest.ts";
export { fetchManifest, minimalManifest } from "../providers/manifest.ts";
export type {
  ManifestInfo,
  ProviderDefinition,
  ProviderServicesOptions,
} from "../providers/provider-services.ts";
export { providerServices } from "../providers/provider-services.ts";
export type { ServeProvidersOptions } from "../providers/serve-providers.ts";
export { serveProviders } from "../providers/serve-providers.ts";

// Lock files, trust and versions: what was resolved, checked before every launch; checksums and
// signatures; semver ranges and engine compatibility.
export type { LockedCommand } from "../discovery/locked-command.ts";
export { lockedCommand } from "../discovery/locked-command.ts";
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
export { checkCompatibility, parseEngines, requireCompatible } from "../versions/engines.ts";
export { hostVersionsWith, plugwireVersion } from "../versions/plugwire-version.ts";
