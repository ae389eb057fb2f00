import { statSync } from "node:fs";
import { resolve } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import { checkRange, parseReference } from "../versions/constraint.ts";
import { isGitUrl } from "./git-source.ts";

/** Where a plugin comes from. */
export type SourceKind = "path" | "folder" | "git" | "npm" | "go" | "archive";

/** An executable file on this machine. */
export interface PathSpec {
  readonly kind: "path";
  readonly raw: string;
  /** Absolute. */
  readonly path: string;
}

/** A folder on this machine: a plugin's source (built) or a package (copied). */
export interface FolderSpec {
  readonly kind: "folder";
  readonly raw: string;
  /** Absolute. */
  readonly path: string;
}

/** A git repository, at a ref (`url#v1`) or at the highest tag satisfying a constraint. */
export interface GitSpec {
  readonly kind: "git";
  readonly raw: string;
  readonly url: string;
  /** A branch, tag or commit written after `#`. */
  readonly ref?: string | undefined;
  /** A semver range over the tags, written after `@`. */
  readonly constraint?: string | undefined;
}

/** An npm package (`npm:@scope/name@^1.2`), from the registry npm is configured with. */
export interface NpmSpec {
  readonly kind: "npm";
  readonly raw: string;
  /** The package name, with its scope. */
  readonly name: string;
  readonly constraint?: string | undefined;
}

/** A Go module (`go:example.com/plugin@v1.4.2`), through the configured GOPROXY. */
export interface GoSpec {
  readonly kind: "go";
  readonly raw: string;
  /** The module path. */
  readonly module: string;
  readonly constraint?: string | undefined;
}

/**
 * A release archive over HTTPS. The URL may hold `{version}`, `{os}` and `{arch}`, filled with
 * the resolved version and Go's names for this platform (`linux`, `darwin`; `amd64`, `arm64`).
 */
export interface ArchiveSpec {
  readonly kind: "archive";
  readonly raw: string;
  /** The URL as written, placeholders included. */
  readonly url: string;
  readonly constraint?: string | undefined;
}

export type SourceSpec = PathSpec | FolderSpec | GitSpec | NpmSpec | GoSpec | ArchiveSpec;

/** File endings of the archives plugwire unpacks. */
const archiveEnding = /\.(zip|tar\.gz|tgz)$/i;

/**
 * Reads a source as written in the configuration or on the command line:
 * `npm:@scope/name@^1.2`, `npm:name`, `go:example.com/plugin@v1.4.2`, `go:example.com/plugin@^1.4`,
 * a git URL (`https://host/x.git`, `git://…`, `git@host:x.git`) with `#ref` or `@range`,
 * `https://…/plugin_{version}_{os}_{arch}.zip@^1.4`, or a local path (a folder or an executable).
 * Nonsense is `CONFIG_INVALID`, naming it.
 */
export function parseSource(raw: string): SourceSpec {
  const text = raw.trim();
  if (text === "") invalid(raw, "the source is empty");
  if (text.startsWith("npm:")) return npmSpec(raw, text.slice(4));
  if (text.startsWith("go:")) return goSpec(raw, text.slice(3));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && archiveEnding.test(urlPath(text))) {
    if (!text.toLowerCase().startsWith("https://"))
      invalid(
        raw,
        "archives are fetched over HTTPS only (their SHA256SUMS come from the same server): write an https:// URL",
      );
    const { name, range } = reference(raw, text);
    return { kind: "archive", raw, url: name, constraint: range };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || isGitUrl(text)) return gitSpec(raw, text);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[a-z]:[\\/]/i.test(text))
    invalid(
      raw,
      `${JSON.stringify(text.slice(0, text.indexOf(":") + 1))} is not a source kind plugwire knows (npm:, go:, a git or https URL, or a path)`,
    );
  const path = resolve(text);
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    // Checked when it is fetched: a path that does not exist yet may be built later.
  }
  return { kind: folder ? "folder" : "path", raw, path };
}

function npmSpec(raw: string, rest: string): NpmSpec {
  const { name, range } = reference(raw, rest);
  // npm's own rules for a package name: lowercase, URL-safe, an optional @scope/.
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name) || name.length > 214)
    invalid(
      raw,
      `${JSON.stringify(name)} is not an npm package name (write npm:name or npm:@scope/name)`,
    );
  return { kind: "npm", raw, name, constraint: range };
}

function goSpec(raw: string, rest: string): GoSpec {
  const { name, range } = reference(raw, rest);
  // A module path: a domain-like first element, then path elements (golang.org/x/mod/module).
  if (!/^[a-z0-9][a-z0-9.-]*(:\d+)?(\/[\w.~-]+)*$/i.test(name) || name.includes(".."))
    invalid(
      raw,
      `${JSON.stringify(name)} is not a Go module path (write go:example.com/org/plugin)`,
    );
  return { kind: "go", raw, module: name, constraint: range };
}

function gitSpec(raw: string, text: string): GitSpec {
  const hash = text.indexOf("#");
  if (hash >= 0) {
    const ref = text.slice(hash + 1);
    if (ref === "" || /\s/.test(ref)) invalid(raw, "the ref after # is empty or has spaces");
    return { kind: "git", raw, url: text.slice(0, hash), ref };
  }
  const { name, range } = reference(raw, text);
  return { kind: "git", raw, url: name, constraint: range };
}

/** `name@range`, the range checked. */
function reference(raw: string, text: string): { name: string; range: string | undefined } {
  const ref = parseReference(text, `source ${JSON.stringify(raw)}`);
  if (ref.name === "") invalid(raw, "it names nothing before the version");
  return { name: ref.name, range: ref.range };
}

/** The path part of a URL, without query or fragment (and unparsed `{placeholders}`). */
function urlPath(text: string): string {
  return text.replace(/[?#].*$/, "").replace(/@[^/]*$/, "");
}

function invalid(raw: string, why: string): never {
  throw new PluginError("CONFIG_INVALID", `source ${JSON.stringify(raw)}: ${why}`, {
    details: { source: raw },
  });
}

/**
 * The constraint that applies: the one written in the source or the one given beside it
 * (`version = "^1.2"`); both, when they differ, is `CONFIG_INVALID`.
 */
export function constraintOf(spec: SourceSpec, given: string | undefined): string | undefined {
  const written = "constraint" in spec ? spec.constraint : undefined;
  if (given !== undefined) checkRange(given, `source ${JSON.stringify(spec.raw)}`);
  if (written !== undefined && given !== undefined && written !== given)
    invalid(
      spec.raw,
      `it says ${JSON.stringify(written)} but the version given beside it is ${JSON.stringify(given)}: write one`,
    );
  return given ?? written;
}

/** A short name for messages: the package, module or URL. */
export function sourceLabel(spec: SourceSpec): string {
  switch (spec.kind) {
    case "npm":
      return `npm package ${spec.name}`;
    case "go":
      return `Go module ${spec.module}`;
    case "git":
      return `git repository ${spec.url}`;
    case "archive":
      return `archive ${spec.url}`;
    default:
      return spec.path;
  }
}
