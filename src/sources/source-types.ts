import type { LockEntry } from "../lock/lock-file.ts";
import type { TrustPolicy } from "../trust/trust-policy.ts";
import type { SourceSpec } from "./source-spec.ts";

/** How to resolve and fetch a source. */
export interface ResolveOptions {
  /** A semver range given beside the source (`version = "^1.2"`); one written in it also counts. */
  constraint?: string | undefined;
  /** The lock entry that applies: resolve exactly its version or commit, refuse other bytes. */
  locked?: LockEntry | undefined;
  /** The lock file the entry came from, named in errors. Default `plugwire.lock`. */
  lockFile?: string | undefined;
  /** Where fetched and built plugins are kept. */
  cacheDir: string;
  /** Named in errors (the service or plugin name). */
  plugin?: string | undefined;
  /**
   * The folder whose settings apply (npm reads `.npmrc` there, go its `go.env`-style settings
   * from the environment). Default the current directory.
   */
  projectDir?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((line: string) => void) | undefined;
  /** The environment npm, go and git run with. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Archives: a PEM file of extra CA certificates to trust for HTTPS (beside `NODE_EXTRA_CA_CERTS`). */
  caFile?: string | undefined;
  /** Archives: `{os}` and `{arch}` (Go's names). Default this machine's. */
  platform?: { readonly os: string; readonly arch: string } | undefined;
}

/** What a source resolved to, before anything is fetched. */
export interface ResolvedSource {
  readonly spec: SourceSpec;
  /** The constraint that applied. */
  readonly constraint?: string | undefined;
  /** The version (semver, without a `v`), for registries and tags. */
  readonly version?: string | undefined;
  /** git: the commit. */
  readonly commit?: string | undefined;
  /** git: the tag the version came from (`v2.1.3`). Go: the module version (`v1.4.2`). */
  readonly label?: string | undefined;
  /** The integrity the registry or lock vouches for: `sha512-…`, `h1:…`, `sha256:…`, `git:<commit>`. */
  readonly integrity?: string | undefined;
  /** archive: the URL with its placeholders filled in. */
  readonly url?: string | undefined;
}

export interface FetchOptions extends ResolveOptions {
  /** TypeScript plugins: let npm run the dependencies' install scripts. Default false. */
  allowScripts?: boolean | undefined;
  /** Signatures to check (archives: `SHA256SUMS.sig` or `<archive>.sig`). Default none checked. */
  trust?: TrustPolicy | undefined;
}

/** A fetched, verified plugin, ready to place. */
export interface FetchedSource {
  readonly resolved: ResolvedSource;
  /** The integrity of what was fetched, checked (as in `ResolvedSource.integrity`). */
  readonly integrity: string;
  /** `executable`: `path` is the file to run; `folder`: a package folder with its manifest. */
  readonly kind: "executable" | "folder";
  readonly path: string;
  /** The file that starts the plugin (`path` itself, or the launcher inside the folder). */
  readonly executable: string;
  /** The fingerprint of the trusted key whose signature was verified. */
  readonly signedBy?: string | undefined;
}
