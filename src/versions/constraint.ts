import semver from "semver";
import { PluginError } from "../errors/plugin-error.ts";

/** A plugin named with an optional semver range: `name@^1.2`, `@scope/name@~2`, `name`. */
export interface PluginReference {
  /** The name or source as written, without the range. */
  readonly name: string;
  /** The range as written; undefined when none was given (any version). */
  readonly range: string | undefined;
}

/**
 * Splits `name@range` at its last `@` (a leading `@scope/` and `user@host:` git URLs are kept),
 * and checks the range. An invalid range is `CONFIG_INVALID` naming it.
 */
export function parseReference(text: string, where = "plugin reference"): PluginReference {
  const at = text.lastIndexOf("@");
  const scoped = text.startsWith("@") && at === 0;
  const gitUser = at > 0 && /^[\w.-]+@[\w.-]+:/.test(text) && text.indexOf("@") === at;
  const range = text.slice(at + 1);
  // `https://user@host/repo.git`: what follows the `@` is a host and path, not a range.
  if (at <= 0 || scoped || gitUser || /[/:]/.test(range)) return { name: text, range: undefined };
  const name = text.slice(0, at);
  checkRange(range, where, name);
  return { name, range };
}

/** Throws `CONFIG_INVALID` unless `range` is a semver range npm would accept. */
export function checkRange(range: string, where: string, plugin?: string): void {
  if (range === "" || semver.validRange(range) === null)
    throw new PluginError(
      "CONFIG_INVALID",
      `${where}: ${JSON.stringify(range)} is not a semver range (write e.g. "^1.2", "~1.4.0", ">=2 <3", "1.4.2")`,
      { plugin, details: { range } },
    );
}

/** One version a source offers: a registry version, or a git tag such as `v1.4.2`. */
export interface VersionCandidate {
  /** As the source names it (`v1.4.2`, `1.4.2`, `plugin/v1.4.2`). */
  readonly label: string;
  /** The semver it stands for. */
  readonly version: string;
}

/**
 * Reads versions from tags or registry versions; labels that are not semver (`latest`, `main`)
 * are left out. A `v` prefix and a `path/` prefix (Go submodule tags) are allowed.
 */
export function versionCandidates(labels: Iterable<string>): VersionCandidate[] {
  const out: VersionCandidate[] = [];
  for (const label of labels) {
    const bare = label.slice(label.lastIndexOf("/") + 1);
    const version = semver.valid(bare);
    if (version !== null) out.push({ label, version });
  }
  return out;
}

export interface ResolveOptions {
  /** Named in the error. */
  readonly plugin?: string | undefined;
  /** Where the range is written (`plugwire.toml:12`), for the error. */
  readonly where?: string | undefined;
  /** Let prereleases (`2.0.0-rc.1`) match. Default false, as npm. */
  readonly includePrerelease?: boolean | undefined;
}

/**
 * The highest candidate satisfying `range` (undefined range: the highest release). None is
 * `VERSION_UNSATISFIED`, naming the range and the versions seen.
 */
export function resolveVersion(
  range: string | undefined,
  candidates: readonly VersionCandidate[],
  options: ResolveOptions = {},
): VersionCandidate {
  const wanted = range ?? "*";
  const includePrerelease = options.includePrerelease === true;
  let best: VersionCandidate | undefined;
  for (const candidate of candidates)
    if (
      semver.satisfies(candidate.version, wanted, { includePrerelease }) &&
      (best === undefined || semver.gt(candidate.version, best.version))
    )
      best = candidate;
  if (best !== undefined) return best;
  const seen = [...new Set(candidates.map((c) => c.version))].sort(semver.rcompare);
  const shown = seen.length > 12 ? [...seen.slice(0, 12), `… ${seen.length - 12} more`] : seen;
  throw new PluginError(
    "VERSION_UNSATISFIED",
    `no version satisfies ${JSON.stringify(wanted)}${options.where === undefined ? "" : ` (${options.where})`}: ${seen.length === 0 ? "the source offers no semver versions" : `the source offers ${shown.join(", ")}`}. Widen the range, or publish a matching version`,
    { plugin: options.plugin, details: { range: wanted, versions: seen } },
  );
}
