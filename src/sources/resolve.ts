// One entry for every kind of source: parse what the configuration says, resolve it to a version
// (and commit, and integrity), list what it offers, and fetch it verified into the cache.
import { existsSync, statSync } from "node:fs";
import semver from "semver";
import { PluginError } from "../errors/plugin-error.ts";
import { sha256File } from "../trust/sha256sums.ts";
import { archiveVersions, fetchArchive, resolveArchive } from "./archive-source.ts";
import { contentHash } from "./content-hash.ts";
import { folderArtifact } from "./folder-artifact.ts";
import { fetchGitSource, gitVersions, resolveGitSource } from "./git-tags.ts";
import { fetchGo, goVersions, resolveGo } from "./go-source.ts";
import { fetchNpm, npmVersions, resolveNpm } from "./npm-source.ts";
import type { SourceSpec } from "./source-spec.ts";
import type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";

export type {
  ArchiveSpec,
  FolderSpec,
  GitSpec,
  GoSpec,
  NpmSpec,
  PathSpec,
  SourceKind,
  SourceSpec,
} from "./source-spec.ts";
export { parseSource, sourceLabel } from "./source-spec.ts";
export type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";

/**
 * Resolves a source to what will be fetched: the highest version satisfying the constraint, or,
 * with `locked`, exactly the locked version or commit, refused (`LOCK_MISMATCH`) when the source
 * now answers another commit or hash for it. Paths and folders resolve to themselves.
 */
export async function resolveSource(
  spec: SourceSpec,
  options: ResolveOptions,
): Promise<ResolvedSource> {
  return naming(options, () => {
    switch (spec.kind) {
      case "npm":
        return resolveNpm(spec, options);
      case "git":
        return resolveGitSource(spec, options);
      case "go":
        return resolveGo(spec, options);
      case "archive":
        return resolveArchive(spec, options);
      default:
        return Promise.resolve({ spec });
    }
  });
}

/** Every version the source offers (semver, highest first), for `plugwire outdated`. */
export async function availableVersions(
  spec: SourceSpec,
  options: ResolveOptions,
): Promise<string[]> {
  const versions = await naming(options, () => {
    switch (spec.kind) {
      case "npm":
        return npmVersions(spec, options);
      case "git":
        return gitVersions(spec, options);
      case "go":
        return goVersions(spec, options);
      case "archive":
        return archiveVersions(spec, options);
      default:
        return Promise.resolve([]);
    }
  });
  const valid = versions.map((v) => semver.valid(v)).filter((v) => v !== null);
  return [...new Set(valid)].sort(semver.rcompare);
}

/**
 * Fetches a resolved source, checks it against its integrity (and signatures, where the source
 * carries them), and builds it into the cache. Nothing half-written stays on failure.
 */
export async function fetchSource(
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<FetchedSource> {
  const { spec } = resolved;
  return naming(options, () => {
    switch (spec.kind) {
      case "npm":
        return fetchNpm(resolved, options);
      case "git":
        return fetchGitSource(resolved, options);
      case "go":
        return fetchGo(resolved, options);
      case "archive":
        return fetchArchive(resolved, options);
      case "path":
        return fetchPath(resolved, spec.path, options);
      case "folder":
        return fetchFolder(resolved, spec.path, options);
    }
  });
}

/** Runs a step, naming the plugin in any PluginError raised below the layer that knows it. */
async function naming<T>(options: ResolveOptions, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw options.plugin !== undefined && error instanceof PluginError
      ? error.withPlugin(options.plugin)
      : error;
  }
}

async function fetchPath(
  resolved: ResolvedSource,
  path: string,
  options: FetchOptions,
): Promise<FetchedSource> {
  if (!existsSync(path) || !statSync(path).isFile())
    throw new PluginError("NOT_A_PLUGIN", `${path} does not exist (nor is it a folder or URL)`, {
      plugin: options.plugin,
      details: { path },
    });
  const integrity = `sha256:${await sha256File(path)}`;
  return { resolved, integrity, kind: "executable", path, executable: path };
}

async function fetchFolder(
  resolved: ResolvedSource,
  dir: string,
  options: FetchOptions,
): Promise<FetchedSource> {
  const integrity = `content:${await contentHash(dir)}`;
  return { resolved, integrity, ...(await folderArtifact(dir, options)) };
}
