import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { findPackageManifest } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { checkLockEntry } from "../lock/lock-file.ts";
import { resolveVersion, versionCandidates } from "../versions/constraint.ts";
import { buildSource } from "./build-source.ts";
import { runTool, type ToolResult, tail } from "./run-tool.ts";
import type { NpmSpec } from "./source-spec.ts";
import { constraintOf } from "./source-spec.ts";
import type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";
import { npmEnv } from "./typescript-build.ts";

const npmCommand = process.platform === "win32" ? "npm.cmd" : "npm";

/** Every version the registry has of the package (`npm view <name> versions --json`). */
export async function npmVersions(spec: NpmSpec, options: ResolveOptions): Promise<string[]> {
  const result = await npm(["view", spec.name, "versions", "--json"], spec, options);
  const versions = parseJson(result, spec, options) as string | string[];
  return Array.isArray(versions) ? versions : [versions];
}

/**
 * The highest version satisfying the constraint (or, with a lock entry, exactly its version), and
 * the integrity the registry publishes for it (`dist.integrity`). A registry that now answers
 * another integrity than the lock is `LOCK_MISMATCH`.
 */
export async function resolveNpm(spec: NpmSpec, options: ResolveOptions): Promise<ResolvedSource> {
  const constraint = constraintOf(spec, options.constraint);
  let version = options.locked?.version;
  if (version === undefined) {
    const versions = await npmVersions(spec, options);
    version = resolveVersion(constraint, versionCandidates(versions), {
      plugin: options.plugin,
      where: `npm package ${spec.name}`,
    }).version;
  }
  const result = await npm(["view", `${spec.name}@${version}`, "dist", "--json"], spec, options);
  // `npm view name@version` of a version the registry lacks prints nothing and exits 0.
  const dist = result.stdout.trim() === "" ? undefined : parseJson(result, spec, options);
  const integrity = (dist as { integrity?: unknown } | undefined)?.integrity;
  if (dist === undefined)
    throw new PluginError(
      "VERSION_UNSATISFIED",
      `npm package ${spec.name} has no version ${version} in the registry${options.locked === undefined ? "" : ` (locked in ${options.lockFile ?? "plugwire.lock"})`}: it was unpublished, or npm points at another registry. Check .npmrc, or delete the lock entry and install again`,
      { plugin: options.plugin, details: { package: spec.name, version } },
    );
  if (typeof integrity !== "string" || !integrity.startsWith("sha512-"))
    throw new PluginError(
      "INTEGRITY_MISMATCH",
      `npm package ${spec.name}@${version} has no sha512 integrity in the registry (dist.integrity is ${JSON.stringify(integrity)}), so it cannot be verified; it was not installed. Ask the publisher to republish it with a current npm`,
      { plugin: options.plugin, details: { package: spec.name, version } },
    );
  if (options.locked !== undefined)
    checkLockEntry(options.locked, { version, integrity }, options.lockFile ?? "plugwire.lock");
  return { spec, constraint, version, integrity };
}

/**
 * Fetches the resolved version's tarball with `npm pack` (npm verifies it against the registry),
 * checks its bytes against the resolved integrity, unpacks it in a temporary folder and builds
 * it into the cache (its dependencies from its shrinkwrap, install scripts off unless allowed,
 * bundled). The temporary folder is removed whatever happens.
 */
export async function fetchNpm(
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<FetchedSource> {
  const spec = resolved.spec as NpmSpec;
  const expected = resolved.integrity;
  const id = `${spec.name}@${resolved.version}`;
  await mkdir(join(options.cacheDir, "tmp"), { recursive: true });
  const temp = await mkdtemp(join(options.cacheDir, "tmp", "npm-"));
  try {
    options.onProgress?.(`fetching ${id} (npm pack)`);
    const result = await npm(
      ["pack", id, "--pack-destination", temp, "--json", "--ignore-scripts"],
      spec,
      options,
    );
    const packed = parseJson(result, spec, options) as Array<{ filename?: string }>;
    const file = join(temp, String(packed[0]?.filename ?? "").replace(/^@[^/]+\//, ""));
    const tarball = existsSync(file) ? file : join(temp, tarballName(spec.name, resolved.version));
    const bytes = await readFile(tarball);
    const integrity = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
    if (expected !== undefined && integrity !== expected)
      throw new PluginError(
        "INTEGRITY_MISMATCH",
        `npm package ${id} from the registry has integrity ${integrity}, but ${options.locked === undefined ? "the registry published" : `${options.lockFile ?? "plugwire.lock"} records`} ${expected}: the tarball was altered. It was not installed; check the registry or mirror in .npmrc`,
        { plugin: options.plugin, details: { package: spec.name, integrity, expected } },
      );
    const unpacked = join(temp, "unpacked");
    await mkdir(unpacked);
    await untar(tarball, unpacked, id, options);
    const dir = join(unpacked, "package");
    if (findPackageManifest(dir) === undefined)
      throw new PluginError(
        "NOT_A_PLUGIN",
        `npm package ${id} is not a plugwire plugin: it has no plugwire.json (or "plugwire" in package.json). Check the package name`,
        { plugin: options.plugin, details: { package: spec.name } },
      );
    options.onProgress?.(`building ${id}`);
    const npmrc = join(options.projectDir ?? process.cwd(), ".npmrc");
    const built = await buildSource(dir, {
      cacheDir: options.cacheDir,
      signal: options.signal,
      onProgress: options.onProgress,
      allowInstallScripts: options.allowScripts === true,
      npmrc: existsSync(npmrc) ? npmrc : undefined,
      env: options.env,
    });
    return {
      resolved,
      integrity,
      kind: "folder",
      path: dirname(built.executable),
      executable: built.executable,
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** npm pack's file name: `@scope/name` → `scope-name-1.2.3.tgz`. */
function tarballName(name: string, version: string | undefined): string {
  return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

async function untar(file: string, into: string, id: string, options: FetchOptions) {
  // The system tar (GNU or bsdtar): it refuses absolute and `..` member names.
  const result = await runTool("tar", ["-xzf", file, "-C", into, "--no-same-owner"], {
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new PluginError(
      "INTEGRITY_MISMATCH",
      `npm package ${id} did not unpack (tar exit ${result.code}):\n${tail(result.output, 4)}`,
      { plugin: options.plugin, details: { output: result.output } },
    );
}

/** Runs npm where the project's `.npmrc` applies; failures become coded errors. */
async function npm(args: string[], spec: NpmSpec, options: ResolveOptions): Promise<ToolResult> {
  const result = await runTool(npmCommand, [...args, "--no-update-notifier"], {
    cwd: options.projectDir ?? process.cwd(),
    env: npmEnv(options.env),
    signal: options.signal,
  });
  if (result.code !== 0) throw npmError(result, spec, options, args[0]!);
  return result;
}

function parseJson(result: ToolResult, spec: NpmSpec, options: ResolveOptions): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new PluginError(
      "SOURCE_UNAVAILABLE",
      `npm answered something that is not JSON for ${spec.name}:\n${tail(result.output, 6)}`,
      { plugin: options.plugin, details: { package: spec.name, output: result.output } },
    );
  }
}

/** What npm's error code means for a plugin, and what to do. */
function npmError(
  result: ToolResult,
  spec: NpmSpec,
  options: ResolveOptions,
  step: string,
): PluginError {
  const out = result.output;
  const code =
    /"code":\s*"(E[A-Z0-9]+)"/.exec(result.stdout)?.[1] ?? /code (E[A-Z0-9]+)/.exec(out)?.[1];
  const details = { package: spec.name, step, npmCode: code, output: out };
  const plugin = options.plugin;
  const said = tail(out, 6);
  const version = /No match found for version (\S+)/.exec(out)?.[1];
  if (code === "E404" && version !== undefined)
    return new PluginError(
      "VERSION_UNSATISFIED",
      `npm package ${spec.name} has no version ${version} in the registry: it was unpublished, or npm points at another registry. Check the registry in .npmrc, or install another version:\n${said}`,
      { plugin, details: { ...details, version } },
    );
  if (code === "E404")
    return new PluginError(
      "VERSION_UNSATISFIED",
      `npm package ${spec.name} is not in the registry npm is configured with (E404). Check the name, and the registry for its scope in .npmrc:\n${said}`,
      { plugin, details },
    );
  if (code === "EINTEGRITY")
    return new PluginError(
      "INTEGRITY_MISMATCH",
      `the registry's tarball of npm package ${spec.name} does not match the integrity it publishes (EINTEGRITY): it was altered. Nothing was installed; check the registry or mirror in .npmrc:\n${said}`,
      { plugin, details },
    );
  if (code === "E401" || code === "E403" || code === "ENEEDAUTH")
    return new PluginError(
      "SOURCE_UNAVAILABLE",
      `the npm registry refused access to ${spec.name} (${code}): set the credentials for its registry in .npmrc (npm login):\n${said}`,
      { plugin, details },
    );
  if (result.code === null && code === undefined)
    return new PluginError("SOURCE_UNAVAILABLE", `npm could not be run: ${said}. Install npm`, {
      plugin,
      details,
    });
  return new PluginError(
    "SOURCE_UNAVAILABLE",
    `npm ${step} of ${spec.name} failed${code === undefined ? "" : ` (${code})`}: the registry is unreachable or answered an error. Check the registry in .npmrc and the network, then try again:\n${said}`,
    { plugin, details },
  );
}
