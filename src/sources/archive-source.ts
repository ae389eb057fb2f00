import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import semver from "semver";
import { PluginError } from "../errors/plugin-error.ts";
import { checkLockEntry } from "../lock/lock-file.ts";
import { parseSha256Sums } from "../trust/sha256sums.ts";
import { verifyArtifact } from "../trust/trust-policy.ts";
import { resolveVersion, versionCandidates } from "../versions/constraint.ts";
import { unpackArchive } from "./archive-unpack.ts";
import { type HttpsGetOptions, httpsDownload, httpsText } from "./https-get.ts";
import type { ArchiveSpec } from "./source-spec.ts";
import { constraintOf } from "./source-spec.ts";
import type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";

/** Go's names for this platform, as release archives are named (`linux_amd64`). */
export function goPlatform(): { os: string; arch: string } {
  const os = { win32: "windows" } as Record<string, string>;
  const arch = { x64: "amd64", ia32: "386" } as Record<string, string>;
  return { os: os[process.platform] ?? process.platform, arch: arch[process.arch] ?? process.arch };
}

/**
 * The versions a templated release URL offers, from the `index.json` in the folder above the
 * first part of the URL that holds `{version}` (`{"versions": ["1.4.2", …]}`, or an object keyed
 * by version as HashiCorp's release index is). A URL without `{version}` offers its own.
 */
export async function archiveVersions(
  spec: ArchiveSpec,
  options: ResolveOptions,
): Promise<string[]> {
  const own = ownVersion(spec);
  if (own !== undefined) return [own];
  const url = indexUrl(spec);
  const text = await httpsText(url, http(options));
  if (text === undefined)
    throw new PluginError(
      "VERSION_UNSATISFIED",
      `the release server has no ${url}, so the versions of ${spec.url} cannot be listed: name one version (e.g. "1.4.2") instead of a range, or publish index.json there`,
      { plugin: options.plugin, details: { url } },
    );
  try {
    const versions = (JSON.parse(text.toString("utf8")) as { versions?: unknown }).versions;
    const list = Array.isArray(versions) ? versions : Object.keys(versions as object);
    return list.map(String);
  } catch {
    throw new PluginError(
      "SOURCE_UNAVAILABLE",
      `${url} is not a release index (JSON with "versions"); ask the publisher to fix it`,
      { plugin: options.plugin, details: { url } },
    );
  }
}

/**
 * The version (an exact constraint or a locked version needs no index), the archive URL filled
 * in, and its SHA-256 from the release's SHA256SUMS (`sha256:<hex>`), refused (LOCK_MISMATCH)
 * when it is not the locked one.
 */
export async function resolveArchive(
  spec: ArchiveSpec,
  options: ResolveOptions,
): Promise<ResolvedSource> {
  const constraint = constraintOf(spec, options.constraint);
  const version = options.locked?.version ?? (await pickVersion(spec, constraint, options));
  const url = fill(spec.url, version ?? "", options);
  const { sums } = await fetchSums(url, version, options);
  const name = basename(new URL(url).pathname);
  const listed = sums.get(name);
  if (listed === undefined)
    throw new PluginError(
      "INTEGRITY_MISMATCH",
      `the release's SHA256SUMS does not list ${name}, so nothing vouches for ${url}; it was not downloaded. Check the URL's {os}/{arch}, or ask the publisher to list it`,
      { plugin: options.plugin, details: { url, listed: [...sums.keys()] } },
    );
  const integrity = `sha256:${listed}`;
  if (options.locked !== undefined)
    checkLockEntry(options.locked, { version, integrity }, options.lockFile ?? "plugwire.lock");
  return { spec, constraint, version, url, integrity };
}

/**
 * Downloads the archive into a temporary folder, checks its SHA-256 against the release's
 * SHA256SUMS (and the lock), checks signatures by the trust policy (a signed `SHA256SUMS.sig`,
 * or the archive's own `.sig`), and unpacks it into the cache by its hash.
 */
export async function fetchArchive(
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<FetchedSource> {
  const url = resolved.url!;
  const name = basename(new URL(url).pathname);
  await mkdir(join(options.cacheDir, "tmp"), { recursive: true });
  const temp = await mkdtemp(join(options.cacheDir, "tmp", "archive-"));
  try {
    options.onProgress?.(`downloading ${url}`);
    const file = join(temp, name);
    const got = await httpsDownload(url, file, http(options));
    if (got.status !== 200)
      throw new PluginError(
        "VERSION_UNSATISFIED",
        `${url} is not on the release server (${got.status}), though its SHA256SUMS lists it. Ask the publisher to upload it`,
        { plugin: options.plugin, details: { url } },
      );
    const integrity = `sha256:${got.sha256}`;
    if (integrity !== resolved.integrity)
      throw new PluginError(
        "INTEGRITY_MISMATCH",
        `${url} has sha256 ${got.sha256} (${got.bytes} bytes), but ${options.locked === undefined ? "the release's SHA256SUMS lists" : `${options.lockFile ?? "plugwire.lock"} records`} ${resolved.integrity?.slice(7)}: the download is truncated or altered. It was not installed; download it again later, or ask the publisher`,
        {
          plugin: options.plugin,
          details: { url, actual: integrity, expected: resolved.integrity },
        },
      );
    const signedBy = await checkSignatures(url, file, temp, resolved, options);
    const out = join(options.cacheDir, "archives", got.sha256.slice(0, 32));
    const artifact = await unpackInto(file, out, url, options);
    return { resolved, integrity, ...artifact, signedBy };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Unpacks into a staging folder beside `out`, renamed into place (reused when already there). */
async function unpackInto(file: string, out: string, url: string, options: FetchOptions) {
  const done = join(out, "archive.json");
  if (existsSync(done)) return JSON.parse(await readFile(done, "utf8")) as Unpacked;
  const staging = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    const found = await unpackArchive(file, staging, url, options.plugin);
    const rel = (path: string) => path.slice(staging.length + 1);
    const unpacked = {
      kind: found.kind,
      path: join(out, rel(found.path)),
      executable: join(out, rel(found.executable)),
    } satisfies Unpacked;
    await writeFile(join(staging, "archive.json"), `${JSON.stringify(unpacked, null, 2)}\n`);
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
    return unpacked;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

interface Unpacked {
  readonly kind: "executable" | "folder";
  readonly path: string;
  readonly executable: string;
}

/**
 * Signatures, unless the policy is off: `SHA256SUMS.sig` over the release's SHA256SUMS (which
 * lists the archive), else `<archive>.sig`; under `required`, neither is SIGNATURE_MISSING.
 */
async function checkSignatures(
  url: string,
  file: string,
  temp: string,
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<string | undefined> {
  const policy = options.trust;
  if (policy === undefined || policy.signatures === "off") return undefined;
  const { sumsUrl, text } = await fetchSums(url, resolved.version, options);
  const sumsSig = await httpsText(`${sumsUrl}.sig`, http(options));
  const sumsFile = join(temp, "SHA256SUMS");
  if (sumsSig !== undefined) {
    await writeFile(sumsFile, text);
    await writeFile(`${sumsFile}.sig`, sumsSig);
    const verified = await verifyArtifact(file, {
      policy,
      plugin: options.plugin,
      sums: sumsFile,
      name: basename(new URL(url).pathname),
    });
    return verified.signer?.fingerprint;
  }
  const ownSig = await httpsText(`${url}.sig`, http(options));
  if (ownSig !== undefined) await writeFile(`${file}.sig`, ownSig);
  const verified = await verifyArtifact(file, { policy, plugin: options.plugin });
  return verified.signer?.fingerprint;
}

/** The release's checksums: `SHA256SUMS` beside the archive, else `<name>_<version>_SHA256SUMS`. */
async function fetchSums(url: string, version: string | undefined, options: ResolveOptions) {
  const folder = url.slice(0, url.lastIndexOf("/") + 1);
  const prefix = basename(new URL(url).pathname).split("_")[0];
  const named = version === undefined ? [] : [`${folder}${prefix}_${version}_SHA256SUMS`];
  for (const sumsUrl of [`${folder}SHA256SUMS`, ...named]) {
    const text = await httpsText(sumsUrl, http(options));
    if (text !== undefined) return { sumsUrl, text, sums: parseSha256Sums(text.toString("utf8")) };
  }
  throw new PluginError(
    "INTEGRITY_MISMATCH",
    `the release of ${url} has no SHA256SUMS (looked for ${[`${folder}SHA256SUMS`, ...named].join(" and ")}), so the archive cannot be verified; it was not downloaded. Ask the publisher to publish one`,
    { plugin: options.plugin, details: { url } },
  );
}

/**
 * A templated URL: an exact constraint as it is, a range from the release index. A URL naming one
 * release: the version in its file name, which the constraint must allow.
 */
async function pickVersion(
  spec: ArchiveSpec,
  constraint: string | undefined,
  options: ResolveOptions,
): Promise<string | undefined> {
  const templated = spec.url.includes("{version}");
  if (!templated && constraint === undefined) return ownVersion(spec);
  if (!templated && ownVersion(spec) === undefined)
    throw new PluginError(
      "CONFIG_INVALID",
      `source ${JSON.stringify(spec.raw)}: a version range needs {version} in the URL (or a version in its file name)`,
      { plugin: options.plugin },
    );
  const exact = constraint === undefined ? null : semver.valid(semver.clean(constraint) ?? "");
  if (templated && exact !== null) return exact;
  const candidates = versionCandidates(await archiveVersions(spec, options));
  return resolveVersion(constraint, candidates, {
    plugin: options.plugin,
    where: `releases of ${spec.url}`,
  }).version;
}

/** A URL without `{version}` names one release: the version in its file name, if any. */
function ownVersion(spec: ArchiveSpec): string | undefined {
  if (spec.url.includes("{version}")) return undefined;
  const match = /(?:^|[_-]v?)(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?=[_.-])/.exec(basename(spec.url));
  return match?.[1];
}

function indexUrl(spec: ArchiveSpec): string {
  const head = spec.url.slice(0, spec.url.indexOf("{version}"));
  return `${head.slice(0, head.lastIndexOf("/") + 1)}index.json`;
}

function fill(template: string, version: string, options: ResolveOptions): string {
  const platform = options.platform ?? goPlatform();
  return template
    .replaceAll("{version}", version)
    .replaceAll("{os}", platform.os)
    .replaceAll("{arch}", platform.arch);
}

function http(options: ResolveOptions): HttpsGetOptions {
  const extra = options.env?.NODE_EXTRA_CA_CERTS;
  return {
    caFile: options.caFile ?? (extra !== process.env.NODE_EXTRA_CA_CERTS ? extra : undefined),
    signal: options.signal,
    plugin: options.plugin,
  };
}
