import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findPackageManifest } from "../discovery/package-manifest.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { checkLockEntry } from "../lock/lock-file.ts";
import { resolveVersion, versionCandidates } from "../versions/constraint.ts";
import { writeBuiltManifest } from "./build-source.ts";
import { runTool, type ToolResult, tail } from "./run-tool.ts";
import type { GoSpec } from "./source-spec.ts";
import { constraintOf } from "./source-spec.ts";
import type {
  FetchedSource,
  FetchOptions,
  ResolvedSource,
  ResolveOptions,
} from "./source-types.ts";

/** What `go mod download -json` reports for one module version. */
interface GoDownload {
  readonly Version?: string;
  readonly Sum?: string;
  readonly Dir?: string;
  readonly Error?: string;
}

/** The module's versions, as the configured proxy lists them (`go list -m -versions -json`). */
export async function goVersions(spec: GoSpec, options: ResolveOptions): Promise<string[]> {
  return withModule(options, undefined, async (dir) => {
    const result = await go(["list", "-m", "-versions", "-json", spec.module], dir, spec, options);
    const listed = parse(result, spec, options) as { Versions?: string[] };
    return listed.Versions ?? [];
  });
}

/**
 * The highest module version satisfying the constraint (with a lock entry, exactly its version),
 * downloaded through the configured GOPROXY so go checks it against go.sum and the checksum
 * database (GOSUMDB, GONOSUMDB, GOPRIVATE as the user set them). With a lock entry, go itself
 * checks the download against the locked `h1:` hash: another hash is `INTEGRITY_MISMATCH`.
 */
export async function resolveGo(spec: GoSpec, options: ResolveOptions): Promise<ResolvedSource> {
  const constraint = constraintOf(spec, options.constraint);
  let version = options.locked?.version;
  if (version === undefined)
    version = resolveVersion(constraint, versionCandidates(await goVersions(spec, options)), {
      plugin: options.plugin,
      where: `Go module ${spec.module}`,
    }).version;
  const label = `v${version}`;
  const download = await downloadModule(spec, label, options.locked?.integrity, options);
  if (options.locked !== undefined)
    checkLockEntry(
      options.locked,
      { version, integrity: download.Sum },
      options.lockFile ?? "plugwire.lock",
    );
  return { spec, constraint, version, label, integrity: download.Sum };
}

/**
 * Installs the resolved module version with `go install -trimpath module@version` (GOBIN in a
 * staging folder of the cache, renamed into place when done), after go checks the module against
 * the resolved hash once more. `-trimpath` makes the binary the same wherever it is built.
 */
export async function fetchGo(
  resolved: ResolvedSource,
  options: FetchOptions,
): Promise<FetchedSource> {
  const spec = resolved.spec as GoSpec;
  const label = resolved.label ?? `v${resolved.version}`;
  const id = `${spec.module}@${label}`;
  const key = createHash("sha256").update(spec.module).digest("hex").slice(0, 16);
  const out = join(options.cacheDir, "go", key, label);
  const download = await downloadModule(spec, label, resolved.integrity, options);
  const integrity = download.Sum!;
  const done = await reuse(out, integrity);
  if (done === undefined) {
    const staging = `${out}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(join(staging, "bin"), { recursive: true });
    try {
      options.onProgress?.(`building ${id} (go install)`);
      const env = goEnv(options.env, { GOBIN: join(staging, "bin") });
      const result = await runTool("go", ["install", "-trimpath", id], {
        cwd: staging,
        env,
        signal: options.signal,
      });
      if (result.code !== 0) throw goError(result, spec, options, "install");
      const [binary] = await readdir(join(staging, "bin"));
      await rename(join(staging, "bin", binary!), join(staging, "plugin"));
      await rm(join(staging, "bin"), { recursive: true });
      if (download.Dir !== undefined && findPackageManifest(download.Dir) !== undefined)
        await writeBuiltManifest(download.Dir, staging);
      await writeFile(
        join(staging, "build.json"),
        `${JSON.stringify({ module: spec.module, version: label, integrity }, null, 2)}\n`,
      );
      await rm(out, { recursive: true, force: true });
      await rename(staging, out);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }
  const executable = join(out, "plugin");
  const folder = existsSync(join(out, "plugwire.json"));
  return {
    resolved,
    integrity,
    kind: folder ? "folder" : "executable",
    path: folder ? out : executable,
    executable,
  };
}

/** An earlier install of the same module hash, if one is complete. */
async function reuse(out: string, integrity: string): Promise<true | undefined> {
  try {
    const build = JSON.parse(await readFile(join(out, "build.json"), "utf8"));
    return build.integrity === integrity && existsSync(join(out, "plugin")) ? true : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `go mod download -json module@version` inside a throwaway main module whose go.sum holds the
 * expected hash, when there is one: go then refuses other bytes itself (SECURITY ERROR).
 */
async function downloadModule(
  spec: GoSpec,
  label: string,
  expected: string | undefined,
  options: ResolveOptions,
): Promise<GoDownload> {
  const sum = expected === undefined ? undefined : `${spec.module} ${label} ${expected}\n`;
  return withModule(options, sum, async (dir) => {
    options.onProgress?.(`downloading ${spec.module}@${label} (go mod download)`);
    const result = await go(
      ["mod", "download", "-json", `${spec.module}@${label}`],
      dir,
      spec,
      options,
    );
    const download = parse(result, spec, options) as GoDownload;
    if (download.Sum === undefined || !download.Sum.startsWith("h1:"))
      throw new PluginError(
        "INTEGRITY_MISMATCH",
        `go mod download gave no h1: hash for ${spec.module}@${label}, so it cannot be verified`,
        { plugin: options.plugin, details: { module: spec.module, version: label } },
      );
    return download;
  });
}

/** Runs `body` in a temporary main module (removed after), with `sum` as its go.sum. */
async function withModule<T>(
  options: ResolveOptions,
  sum: string | undefined,
  body: (dir: string) => Promise<T>,
): Promise<T> {
  await mkdir(join(options.cacheDir, "tmp"), { recursive: true });
  const dir = await mkdtemp(join(options.cacheDir, "tmp", "go-"));
  try {
    await writeFile(join(dir, "go.mod"), "module plugwire.invalid/fetch\n\ngo 1.21\n");
    if (sum !== undefined) await writeFile(join(dir, "go.sum"), sum);
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** go's environment: the user's, static binaries unless CGO_ENABLED says otherwise. */
function goEnv(base: NodeJS.ProcessEnv | undefined, extra: NodeJS.ProcessEnv = {}) {
  const env = base ?? process.env;
  return { ...env, CGO_ENABLED: env.CGO_ENABLED ?? "0", ...extra };
}

async function go(
  args: string[],
  cwd: string,
  spec: GoSpec,
  options: ResolveOptions,
): Promise<ToolResult> {
  const result = await runTool("go", args, {
    cwd,
    env: goEnv(options.env),
    signal: options.signal,
  });
  if (result.code !== 0) throw goError(result, spec, options, args.slice(0, 2).join(" "));
  return result;
}

function parse(result: ToolResult, spec: GoSpec, options: ResolveOptions): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw goError(result, spec, options, "json");
  }
}

/** go's failures, by what its output says, as coded errors saying what to do. */
function goError(result: ToolResult, spec: GoSpec, options: ResolveOptions, step: string) {
  const out = `${result.output}\n${result.stdout}`;
  const said = tail(result.output, 8);
  const details = { module: spec.module, step, output: result.output };
  const plugin = options.plugin;
  if (/checksum mismatch|SECURITY ERROR/.test(out))
    return new PluginError(
      "INTEGRITY_MISMATCH",
      `go refused Go module ${spec.module}: its bytes do not match the hash recorded for it (go.sum, the checksum database or ${options.lockFile ?? "plugwire.lock"}). The version was replaced on the proxy, or someone intercepted the download; nothing was installed:\n${said}`,
      { plugin, details },
    );
  if (
    /404 Not Found|410 Gone|unknown revision|no matching versions|invalid version|not found/.test(
      out,
    )
  )
    return new PluginError(
      "VERSION_UNSATISFIED",
      `the module proxy (GOPROXY) has no Go module ${spec.module} at that version. Check the module path and version, and GOPROXY/GOPRIVATE:\n${said}`,
      { plugin, details },
    );
  if (/dial tcp|connection refused|no such host|i\/o timeout|50[0-9] |TLS handshake/.test(out))
    return new PluginError(
      "SOURCE_UNAVAILABLE",
      `the Go module proxy could not be reached for ${spec.module}: check GOPROXY (go env GOPROXY) and the network, then try again:\n${said}`,
      { plugin, details },
    );
  if (result.code === null)
    return new PluginError("SOURCE_UNAVAILABLE", `go could not be run: ${said}. Install Go`, {
      plugin,
      details,
    });
  return new PluginError(
    step === "install" ? "BUILD_FAILED" : "FETCH_FAILED",
    `go ${step} of ${spec.module} failed (exit ${result.code}):\n${said}`,
    { plugin, details: { ...details, step: `go ${step}` } },
  );
}
