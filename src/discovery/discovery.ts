import { basename } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { Lockfile } from "../lock/lock-file.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { Logger } from "../protocol/hclog.ts";
import type { PluginManifest } from "../providers/manifest.ts";
import { fetchManifest, minimalManifest } from "../providers/manifest.ts";
import type { Connection } from "../supervisor/connection.ts";
import type { ProcessSpec } from "../supervisor/launch-process.ts";
import { launchProcess } from "../supervisor/launch-process.ts";
import type { ManagedPluginOptions } from "../supervisor/managed-plugin.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import type { HostVersions } from "../versions/engines.ts";
import { requireCompatible } from "../versions/engines.ts";
import { hostVersionsWith } from "../versions/plugwire-version.ts";
import type { Candidate, DiscoveryRun, SkipReason } from "./candidates.ts";
import { listCandidates } from "./candidates.ts";
import { lockedLaunch } from "./locked-command.ts";
import { entryCommand, readPackageManifest } from "./package-manifest.ts";
import { explainFailure } from "./skip-reason.ts";

/** Supervision settings for discovered plugins. */
export type SuperviseOptions = Omit<ManagedPluginOptions, "id" | "launch" | "manifest">;

export interface DiscoverOptions {
  /** Directories to scan, globs, or single files/package folders. */
  paths: readonly string[];
  /** The host's handshake, for candidates whose package manifest names none. */
  handshake: HandshakeConfig;
  /** Protocol versions the host offers. Default `[handshake.protocolVersion ?? 1]`. */
  versions?: readonly number[] | undefined;
  /** The most one candidate may take to start and describe itself. Default 5000. */
  startTimeoutMs?: number | undefined;
  /** Candidates started at once. Default 16. */
  concurrency?: number | undefined;
  /** Keep the plugins that work running (true) or stop them after the probe, to start on first use. Default true. */
  keepRunning?: boolean | undefined;
  /** Supervision settings for the registered plugins. */
  supervise?: SuperviseOptions | undefined;
  /**
   * What may be run: `"all"` (default) starts every executable found in the directories;
   * `"manifest"` starts only plugin packages (plugwire.json / plugwire.toml) and files named one by
   * one in `paths`, and skips other executables as `not-trusted` without running them.
   */
  run?: DiscoveryRun | undefined;
  /** Extra options for each plugin process (env, stderr, `start: { hostEnv }`, ...). */
  process?: Partial<ProcessSpec> | undefined;
  /**
   * What the host is, for the `engines` of plugin packages (`{ myapp: "2.3.0" }`); plugwire's own
   * version is always added. A package whose engines exclude it is skipped as `incompatible`.
   */
  hostVersions?: HostVersions | undefined;
  /**
   * A lock file whose entries name installed artifacts (`plugwire install <source>` into a plugin
   * directory): a candidate that is one (or holds one) runs only if it has the locked SHA-256,
   * checked before every start and restart.
   */
  lock?: { readonly file: string; readonly lock: Lockfile } | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** A candidate that was not registered, with the reason in one line. */
export interface Skipped {
  readonly path: string;
  readonly reason: SkipReason;
  /** One line: `<reason>: <what happened>`. */
  readonly message: string;
  readonly error: PluginError | undefined;
}

/** A candidate that works. */
export interface Found {
  readonly path: string;
  readonly plugin: ManagedPlugin;
  /** Time from spawn to manifest. */
  readonly startMs: number;
  /** go-plugin's protocol it speaks: `grpc`, or `netrpc` (dispense its net/rpc interfaces). */
  readonly protocol: "grpc" | "netrpc";
}

export interface DiscoveryResult {
  readonly found: Found[];
  readonly skipped: Skipped[];
  readonly elapsedMs: number;
}

/**
 * Scans `paths` for plugins and tries each one with a bounded start, in parallel. Those that work
 * become supervised plugins (running, or stopped with `keepRunning: false`); the rest are skipped
 * with a one-line reason. Never throws for a bad candidate.
 */
export async function discoverPlugins(options: DiscoverOptions): Promise<DiscoveryResult> {
  const started = Date.now();
  const candidates = await listCandidates(options.paths, options.run);
  const results = await mapLimit(candidates, options.concurrency ?? 16, (c) => probe(c, options));
  const found: Found[] = [];
  const skipped: Skipped[] = [];
  const ids = new Map<string, string>();
  for (const result of results) {
    if ("reason" in result) {
      skipped.push(result);
      continue;
    }
    const id = result.plugin.id;
    const other = ids.get(id);
    if (other !== undefined) {
      await result.plugin.close();
      skipped.push({
        path: result.path,
        reason: "failed",
        message: `failed: duplicate plugin id ${JSON.stringify(id)} (already provided by ${other})`,
        error: undefined,
      });
      continue;
    }
    ids.set(id, result.path);
    found.push(result);
  }
  return { found, skipped, elapsedMs: Date.now() - started };
}

/** How to start a candidate, and what is known about it before it runs. */
export async function candidateSpec(
  candidate: Candidate & { kind: "executable" | "package" },
  options: Pick<
    DiscoverOptions,
    "handshake" | "versions" | "startTimeoutMs" | "process" | "logger" | "hostVersions" | "lock"
  >,
): Promise<{
  spec: ProcessSpec;
  manifest: PluginManifest;
  /** Starts it (again): locked artifacts are checked against the lock first, every time. */
  launch: (signal?: AbortSignal) => Promise<Connection>;
}> {
  const base = {
    startTimeoutMs: options.startTimeoutMs ?? 5000,
    logger: options.logger,
    ...options.process,
  };
  let spec: ProcessSpec;
  let manifest: PluginManifest;
  let args: readonly string[] = [];
  if (candidate.kind === "executable") {
    const id = basename(candidate.path);
    spec = {
      ...base,
      name: id,
      cmd: candidate.path,
      handshake: options.handshake,
      versions: options.versions,
    };
    manifest = minimalManifest(id);
  } else {
    const pkg = await readPackageManifest(candidate.manifestFile);
    requireCompatible(
      { id: pkg.manifest.id, engines: pkg.engines },
      hostVersionsWith(options.hostVersions),
    );
    const command = entryCommand(pkg.entry, pkg.args);
    args = pkg.args;
    spec = {
      ...base,
      name: pkg.manifest.id,
      cmd: command.cmd,
      args: command.args,
      cwd: pkg.dir,
      handshake: pkg.handshake ?? options.handshake,
      versions: pkg.versions ?? options.versions,
    };
    manifest = pkg.manifest;
  }
  const locked = lockedLaunch(candidate.path, args, spec, options.lock);
  return {
    spec,
    manifest,
    launch: locked ?? ((signal) => launchProcess(spec, signal)),
  };
}

async function probe(candidate: Candidate, options: DiscoverOptions): Promise<Found | Skipped> {
  if (candidate.kind === "skip")
    return {
      path: candidate.path,
      reason: candidate.reason,
      message: candidate.message,
      error: undefined,
    };
  const started = Date.now();
  let spec: ProcessSpec;
  let manifest: PluginManifest;
  let launch: (signal?: AbortSignal) => Promise<Connection>;
  try {
    ({ spec, manifest, launch } = await candidateSpec(candidate, options));
  } catch (error) {
    return skip(candidate.path, error);
  }
  const budgetMs = spec.startTimeoutMs ?? 5000;
  try {
    const connection = await launch(options.signal);
    const left = Math.max(100, budgetMs - (Date.now() - started));
    try {
      manifest = await fetchManifest(connection, manifest, left);
    } catch (error) {
      await connection.kill();
      throw error;
    }
    const plugin = new ManagedPlugin({
      ...options.supervise,
      id: manifest.id,
      manifest,
      launch,
    });
    plugin.adopt(connection, manifest);
    if (options.keepRunning === false) await plugin.stop();
    const { protocol } = connection.info;
    return { path: candidate.path, plugin, startMs: Date.now() - started, protocol };
  } catch (error) {
    return skip(candidate.path, error);
  }
}

function skip(path: string, error: unknown): Skipped {
  const failure = PluginError.from(error);
  return { path, ...explainFailure(failure), error: failure };
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
