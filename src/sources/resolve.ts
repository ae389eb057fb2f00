// One entry for every kind of source: parse what the configuration says, resolve it to a version
// (and commit, and integrity), list what it offers, and fetch it verified into the cache.
import { existsSync, statSync } from "node:fs";
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
      return { spec };
  }
}

/** Every version the source offers (semver, highest first), for `plugwire outdated`. */
export async function availableVersions(
  spec: SourceSpec,
  options: ResolveOptions,
): Promise<string[]> {
  let versions: string[];
  switch (spec.kind) {
    case "npm":
      versions = await npmVersions(spec, options);
      break;
    case "git":
      versions = await gitVersions(spec, options);
      break;
    case "go":
      versions = (await goVersions(spec, options)).map((v) => v.replace(/^v/, ""));
      break;
    case "archive":
      versions = await archiveVersions(spec, options);
      break;
    default:
      return [];
  }
  const { default: semver } = await import("semver");
  return [...new Set(versions.filter((v) => semver.valid(v) !== null))].sort(semver.rcompare);
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
  try {
    switch (spec.kind) {
      case "npm":
        return await fetchNpm(resolved, options);
      case "git":
        return await fetchGitSource(resolved, options);
      case "go":
        return await fetchGo(resolved, options);
      case "archive":
        return await fetchArchive(resolved, options);
      case "path":
        return await fetchPath(resolved, spec.path, options);
      case "folder":
        return await fetchFolder(resolved, spec.path, options);
    }
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
