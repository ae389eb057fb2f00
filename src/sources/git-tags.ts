import { PluginError } from "../errors/plugin-error.ts";
import { checkLockEntry } from "../lock/lock-file.ts";
import { resolveVersion, versionCandidates } from "../versions/constraint.ts";
import { folderArtifact } from "./folder-artifact.ts";
import { fetchGit, gitEnv, resolveRef } from "./git-source.ts";
import { runTool, tail } from "./run-tool.ts";
import type { GitSpec } from "./source-spec.ts";
import { constraintOf } from "./source-spec.ts";
import type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";

/** A remote's tags: name → the commit it points at (an annotated tag peeled to its commit). */
export async function remoteTags(
  spec: GitSpec,
  options: ResolveOptions,
): Promise<Map<string, string>> {
  const result = await runTool("git", ["ls-remote", "--tags", "--", spec.url], {
    env: gitEnv(options.env),
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new PluginError(
      "SOURCE_UNAVAILABLE",
      `cannot list the tags of the git repository ${spec.url} (git ls-remote exit ${result.code}): check the URL, the network and git's credentials for it, then try again:\n${tail(result.output, 4)}`,
      { plugin: options.plugin, details: { url: spec.url, output: result.output } },
    );
  const tags = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const match = /^([0-9a-f]{40,64})\trefs\/tags\/(.+?)(\^\{\})?$/.exec(line.trim());
    if (match === null) continue;
    (match[3] === undefined ? tags : peeled).set(match[2]!, match[1]!);
  }
  for (const [tag, commit] of peeled) tags.set(tag, commit);
  return tags;
}

/** The semver versions among a repository's tags, for `plugwire outdated`. */
export async function gitVersions(spec: GitSpec, options: ResolveOptions): Promise<string[]> {
  return versionCandidates((await remoteTags(spec, options)).keys()).map((c) => c.version);
}

/**
 * A constraint: the highest satisfying tag and its commit (with a lock entry, the locked
 * version's tag, refused when it now points at another commit: the tag moved). A ref: the commit
 * it points at now, or with a lock entry the locked commit (a branch that moved on since is not
 * followed until `plugwire update`). Integrity is `git:<commit>`.
 */
export async function resolveGitSource(
  spec: GitSpec,
  options: ResolveOptions,
): Promise<ResolvedSource> {
  const constraint = constraintOf(spec, options.constraint);
  const lockFile = options.lockFile ?? "plugwire.lock";
  if (constraint === undefined || spec.ref !== undefined) {
    if (spec.ref !== undefined && options.constraint !== undefined)
      throw new PluginError(
        "CONFIG_INVALID",
        `source ${JSON.stringify(spec.raw)} names the ref ${spec.ref} and the range ${options.constraint}: write one`,
        { plugin: options.plugin },
      );
    const commit =
      options.locked?.commit ??
      (await resolveRef("git", spec.url, spec.ref, gitEnv(options.env), options).catch(
        (error: unknown) => {
          throw unreachable(error, spec, options);
        },
      ));
    return { spec, commit, label: spec.ref, integrity: `git:${commit}` };
  }
  const tags = await remoteTags(spec, options);
  const candidates = versionCandidates(tags.keys());
  const locked = options.locked?.version;
  const chosen =
    locked === undefined
      ? resolveVersion(constraint, candidates, {
          plugin: options.plugin,
          where: `tags of ${spec.url}`,
        })
      : candidates.find((c) => c.version === locked);
  if (chosen === undefined)
    throw new PluginError(
      "LOCK_MISMATCH",
      `${spec.url} no longer has a tag for version ${locked}, which ${lockFile} records: the tag was deleted. It was refused. If that is intended, delete [plugins.${options.locked?.name}] from the lock and install again`,
      { plugin: options.plugin, details: { url: spec.url, version: locked } },
    );
  const commit = tags.get(chosen.label)!;
  if (options.locked !== undefined)
    checkLockEntry(options.locked, { version: chosen.version, commit }, lockFile);
  return {
    spec,
    constraint,
    version: chosen.version,
    label: chosen.label,
    commit,
    integrity: `git:${commit}`,
  };
}

/** Clones the resolved commit into the cache, then builds it (or takes its prebuilt package). */
export async function fetchGitSource(
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<FetchedSource> {
  const spec = resolved.spec as GitSpec;
  const checkout = await fetchGit(spec.url, resolved.commit, {
    cacheDir: options.cacheDir,
    signal: options.signal,
    onProgress: options.onProgress,
    env: options.env,
  }).catch((error: unknown) => {
    throw unreachable(error, spec, options);
  });
  const artifact = await folderArtifact(checkout.dir, options);
  return { resolved, integrity: `git:${checkout.commit}`, ...artifact };
}

/** git's "cannot reach" as SOURCE_UNAVAILABLE, naming the plugin; other errors as they are. */
function unreachable(error: unknown, spec: GitSpec, options: ResolveOptions): unknown {
  if (!(error instanceof PluginError) || error.code !== "FETCH_FAILED") return error;
  const code = /cannot reach|unable to access|Connection refused|Could not resolve/i.test(
    error.rawMessage,
  )
    ? "SOURCE_UNAVAILABLE"
    : "FETCH_FAILED";
  return new PluginError(code, error.rawMessage, {
    plugin: options.plugin,
    cause: error,
    details: { ...error.details, url: spec.url },
  });
}
