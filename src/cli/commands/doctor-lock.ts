// `plugwire doctor --config`: the lock against the configuration and the installed files. Lock
// drift (an installed artifact whose SHA-256 is not the locked one, a service with no entry, an
// entry with no service), signatures the policy requires but the lock does not record, versions
// outside their constraint, and installed packages whose engines exclude this host.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import semver from "semver";
import type { HostConfig, ServiceConfig } from "../../config/config.ts";
import { serviceSource } from "../../config/drivers.ts";
import { findPackageManifest, readPackageManifest } from "../../discovery/package-manifest.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { lockedArtifactPath } from "../../lock/launch-check.ts";
import type { LockEntry, Lockfile } from "../../lock/lock-file.ts";
import { lockFileFor, readLock } from "../../lock/lock-file.ts";
import { sha256File } from "../../trust/sha256sums.ts";
import { trustPolicy } from "../../trust/trust-config.ts";
import { checkCompatibility } from "../../versions/engines.ts";
import { hostVersionsWith } from "../../versions/plugwire-version.ts";
import { installableSource } from "./install-plan.ts";

/** One finding of doctor: `path` is `services.<name>` or `plugins.<name>` (a lock entry). */
export interface LockFinding {
  readonly path: string;
  readonly ok: boolean;
  readonly reason:
    | "ok"
    | "not-locked"
    | "lock-stale"
    | "constraint-mismatch"
    | "not-installed"
    | "drift"
    | "unsigned"
    | "incompatible"
    | "orphan-entry"
    | "lock-invalid";
  readonly message: string;
}

/** Every finding for the configuration's installable services and its lock. */
export async function lockFindings(config: HostConfig): Promise<LockFinding[]> {
  const lockFile = lockFileFor(config.file);
  let lock: Lockfile;
  try {
    lock = await readLock(lockFile);
  } catch (error) {
    const failure = PluginError.from(error);
    return [{ path: lockFile, ok: false, reason: "lock-invalid", message: failure.message }];
  }
  const baseDir = resolve(config.file, "..");
  const findings: LockFinding[] = [];
  const services = new Set<string>();
  for (const service of Object.values(config.services)) {
    if (installableSource(service, baseDir) === undefined) continue;
    services.add(service.name);
    findings.push(await serviceFinding(config, service, lock.plugins[service.name], lockFile));
  }
  for (const entry of Object.values(lock.plugins))
    if (!services.has(entry.name) && !inPluginDirs(config, entry, lockFile))
      findings.push({
        path: `plugins.${entry.name}`,
        ok: false,
        reason: "orphan-entry",
        message: `orphan entry: ${lockFile} locks ${entry.name} (${entry.source}) but no service names it; plugwire install drops it`,
      });
  return findings;
}

async function serviceFinding(
  config: HostConfig,
  service: ServiceConfig,
  entry: LockEntry | undefined,
  lockFile: string,
): Promise<LockFinding> {
  const path = `services.${service.name}`;
  const problem = (reason: LockFinding["reason"], message: string): LockFinding => ({
    path,
    ok: false,
    reason,
    message: `${reason.replace("-", " ")}: ${message}`,
  });
  const source = serviceSource(service.driver, service.ref);
  if (entry === undefined) return problem("not-locked", `not in ${lockFile}; run plugwire install`);
  if (entry.source !== source)
    return problem(
      "lock-stale",
      `the lock has it from ${entry.source}, the configuration says ${source}; run plugwire install`,
    );
  const constraint = service.version;
  if (
    constraint !== undefined &&
    (entry.version === undefined || !semver.satisfies(entry.version, constraint))
  )
    return problem(
      "constraint-mismatch",
      `the lock has version ${entry.version ?? "(none)"}, outside ${constraint}; run plugwire install`,
    );
  const artifact = lockedArtifactPath(entry, lockFile);
  if (artifact === undefined || !existsSync(artifact))
    return problem(
      "not-installed",
      `${artifact ?? "its artifact"} is missing; run plugwire install`,
    );
  const actual = await sha256File(artifact);
  if (actual !== entry.sha256)
    return problem(
      "drift",
      `${artifact} has sha256 ${actual}, the lock records ${entry.sha256}: it changed after it was installed and will not start; run plugwire install to restore it`,
    );
  const policy = await trustPolicy(config.trust, service.trust);
  if (policy.signatures === "required" && entry.signedBy === undefined)
    return problem(
      "unsigned",
      `the trust policy requires signatures, and the lock records none for it; install a signed release`,
    );
  const manifest = findPackageManifest(dirname(artifact));
  if (manifest !== undefined) {
    const pkg = await readPackageManifest(manifest);
    const skip = checkCompatibility(
      { id: service.name, engines: pkg.engines },
      hostVersionsWith(config.manager.hostVersions),
    );
    if (skip !== undefined) return problem("incompatible", skip.message);
  }
  const at = entry.version ?? entry.commit?.slice(0, 12);
  return {
    path,
    ok: true,
    reason: "ok",
    message: `ok: ${at === undefined ? "" : `${at} `}installed as locked (sha256 ${entry.sha256.slice(0, 12)}${entry.signedBy === undefined ? "" : `, signed by ${entry.signedBy}`})`,
  };
}

function inPluginDirs(config: HostConfig, entry: LockEntry, lockFile: string): boolean {
  const artifact = lockedArtifactPath(entry, lockFile);
  return (
    artifact !== undefined &&
    config.manager.pluginDirs.some((dir) => artifact.startsWith(`${resolve(dir)}/`))
  );
}
