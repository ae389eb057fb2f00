import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import { runTool, tail } from "./run-tool.ts";

export interface GitFetchOptions {
  cacheDir: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** The git executable. Default `git` from PATH. */
  git?: string | undefined;
  /** The environment git runs with (its own config applies). Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface GitCheckout {
  /** The checked-out source. */
  readonly dir: string;
  /** The commit the ref resolved to; the checkout is pinned to it. */
  readonly commit: string;
  readonly cached: boolean;
}

/** Whether a driver string is a git URL rather than a path or a name. */
export function isGitUrl(driver: string): boolean {
  return (
    /^(git|ssh|https?|file):\/\//.test(driver) ||
    /^[\w.-]+@[\w.-]+:/.test(driver) ||
    driver.endsWith(".git")
  );
}

/**
 * Fetches `ref` (a branch, tag or full commit; default the remote's HEAD) of a repository with the
 * system git, into the cache at the commit it resolves to. The same commit is fetched once.
 */
export async function fetchGit(
  url: string,
  ref: string | undefined,
  options: GitFetchOptions,
): Promise<GitCheckout> {
  const git = options.git ?? "git";
  const env = gitEnv(options.env);
  const commit = await resolveRef(git, url, ref, env, options);
  const dir = join(
    options.cacheDir,
    "git",
    createHash("sha256").update(url).digest("hex").slice(0, 16),
    commit,
  );
  if (existsSync(join(dir, ".git"))) return { dir, commit, cached: true };
  options.onProgress?.(
    `cloning ${url}${ref === undefined ? "" : ` at ${ref}`} (${commit.slice(0, 12)})`,
  );
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  const run = (args: string[]) => runTool(git, args, { cwd: staging, env, signal: options.signal });
  try {
    const steps: string[][] = [
      ["init", "--quiet"],
      ["fetch", "--quiet", "--depth", "1", "--", url, ref ?? "HEAD"],
      ["checkout", "--quiet", "--detach", "FETCH_HEAD"],
    ];
    for (const args of steps) {
      const result = await run(args);
      if (result.code !== 0)
        throw new PluginError(
          "FETCH_FAILED",
          `git ${args[0]} of ${url} failed:\n${tail(result.output)}`,
          {
            details: { url, ref, output: result.output },
          },
        );
    }
    const head = (await run(["rev-parse", "HEAD"])).output.trim();
    if (head !== commit)
      throw new PluginError(
        "FETCH_FAILED",
        `${url} moved while fetching: ${ref ?? "HEAD"} resolved to ${commit} but the fetch got ${head}; try again`,
        { details: { url, ref } },
      );
    await mkdir(join(dir, ".."), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { dir, commit, cached: false };
}

/** git's environment: never prompting for a password (a prompt would hang an install). */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true" };
}

/** The commit a ref (branch, tag, commit; default HEAD) of a remote points at now. */
export async function resolveRef(
  git: string,
  url: string,
  ref: string | undefined,
  env: NodeJS.ProcessEnv,
  options: GitFetchOptions,
): Promise<string> {
  if (ref !== undefined && /^[0-9a-f]{40}$/.test(ref)) return ref;
  const wanted = ref ?? "HEAD";
  const result = await runTool(git, ["ls-remote", "--", url, wanted], {
    env,
    signal: options.signal,
  });
  if (result.code !== 0)
    throw new PluginError(
      "FETCH_FAILED",
      `cannot reach the git repository ${url}: ${tail(result.output, 3).trim()}`,
      { details: { url, ref, output: result.output } },
    );
  const lines = result.output
    .trim()
    .split("\n")
    .filter((l) => l !== "");
  // Prefer an exact match: tags (peeled), then branches, then anything ending in the ref.
  const pick = (suffix: string) => lines.find((l) => l.endsWith(`\t${suffix}`))?.split("\t")[0];
  const commit =
    ref === undefined
      ? pick("HEAD")
      : (pick(`refs/tags/${ref}^{}`) ??
        pick(`refs/tags/${ref}`) ??
        pick(`refs/heads/${ref}`) ??
        pick(ref));
  if (commit === undefined)
    throw new PluginError(
      "FETCH_FAILED",
      `${url} has no ref ${JSON.stringify(wanted)}; check the branch or tag name (git ls-remote ${url})`,
      { details: { url, ref } },
    );
  return commit;
}
