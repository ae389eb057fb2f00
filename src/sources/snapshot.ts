// A bundled TypeScript plugin as a V8 startup snapshot (docs/performance.md, decision 16): the
// bundle's modules evaluated once, at build time, into a blob that `node --snapshot-blob` starts
// from, so protobuf-es's descriptors and plugwire's modules are not loaded at every start.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { SnapshotRecord } from "../discovery/snapshot-record.ts";
import { snapshotFiles, thisNode } from "../discovery/snapshot-record.ts";
import type { BundleOptions } from "./bundle.ts";
import { bundle, fileHash } from "./bundle.ts";
import { deferServeKey } from "./defer-serve.ts";

/** The outcome of `buildSnapshot`: the record, or why there is none (the bundle still runs). */
export type SnapshotOutcome =
  | { readonly ok: true; readonly record: SnapshotRecord }
  | { readonly ok: false; readonly reason: string };

/**
 * Builds a startup snapshot of a plugin beside its bundle (`bundleFile`, already built from the
 * same options): bundles the entry as a builder script, runs `node --build-snapshot` on it into
 * `<bundle>.snapshot.blob`, and writes its record `<bundle>.snapshot.json` (the blob's SHA-256,
 * the bundle's, this node), which binds the blob to that bundle and this node binary; the bundle
 * itself is left as it was. The plugin's top-level code runs
 * here, at build time, in a bare environment (`builderEnvKeys`); `serve()` runs in each started
 * process. A plugin that cannot be snapshotted (a handle opened at top level, serve() never
 * called, an error at build time) gets no snapshot, and the reason.
 */
export async function buildSnapshot(
  options: Omit<BundleOptions, "outfile" | "form">,
  bundleFile: string,
): Promise<SnapshotOutcome> {
  const dir = dirname(bundleFile);
  const files = snapshotFiles(bundleFile);
  const blob = files.blob;
  const body = join(dir, `.${basename(blob)}.body.js`);
  const builder = join(dir, `.${basename(blob)}.builder.cjs`);
  const status = join(dir, `.${basename(blob)}.status`);
  try {
    await Promise.all([blob, files.record].map((f) => rm(f, { force: true })));
    await bundle({ ...options, outfile: body, form: "snapshot" });
    await writeFile(builder, builderScript(await readFile(body, "utf8"), status, bundleFile));
    const output = await runBuilder(builder, blob);
    if (!existsSync(status) || !existsSync(blob)) {
      await rm(blob, { force: true });
      return { ok: false, reason: whyNot(output, existsSync(status)) };
    }
    const record: SnapshotRecord = {
      blob: basename(blob),
      sha256: fileHash(blob),
      bundle: fileHash(bundleFile),
      node: thisNode(),
    };
    await writeFile(files.record, `${JSON.stringify(record, null, 2)}\n`);
    return { ok: true, record };
  } finally {
    await Promise.all([body, builder, status].map((f) => rm(f, { force: true })));
  }
}

function whyNot(output: string, served: boolean): string {
  const said = output
    .split("\n")
    .filter(
      (l) => l.trim() !== "" && !/async_hooks|may still work|issue tracker|trace-warnings/.test(l),
    )
    .slice(0, 12)
    .join("\n");
  if (served) return `node --build-snapshot failed:\n${said}`;
  return said === ""
    ? "the plugin did not call serve() while its top-level code ran"
    : `the plugin's top-level code failed while the snapshot was built:\n${said}`;
}

/** How long `node --build-snapshot` may run. */
const builderTimeoutMs = 60_000;

/**
 * The environment the plugin's top-level code sees at build time: the system's basics only. What
 * it reads there is kept in the blob (a file on disk), so no token or setting of the building
 * process goes into it, and no PLUGIN_* of a host, nor NODE_OPTIONS.
 */
const builderEnvKeys =
  /^(PATH|HOME|USER|LOGNAME|SHELL|TMPDIR|TMP|TEMP|LANG|LC_[A-Z]+|TZ|NODE_ENV|SYSTEMROOT)$/i;

/** Runs the builder in that environment. */
function runBuilder(builder: string, blob: string): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (builderEnvKeys.test(key)) env[key] = value;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", builder], {
      cwd: dirname(builder),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (chunk: Buffer) => {
      if (output.length < 64 * 1024) output += chunk.toString();
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (error) => resolve(`${output}${error.message}`));
    // Top-level code that keeps the event loop busy (a timer, a server) never lets the build end.
    const timer = setTimeout(() => {
      output += `\nthe plugin's top-level code still ran after ${builderTimeoutMs / 1000} s (a timer or an open handle keeps the event loop busy), so no snapshot was taken`;
      child.kill("SIGKILL");
    }, builderTimeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? output : `${output}\n(exit ${code ?? signal})`);
    });
  });
}

/**
 * The builder: the bundle's body in an async function (it may `await` at top level), after a
 * hook that records serve()'s call. The deserialize-main takes `process.argv[1]` as the bundle's
 * path, as `node bundle.mjs` has it (`node --snapshot-blob B bundle.mjs args…`), so the plugin
 * sees the same argv and `import.meta.url` either way, then runs serve().
 */
function builderScript(body: string, status: string, bundleFile: string): string {
  // Top-level code that reads import.meta.url (at build time) sees the bundle's.
  const url = JSON.stringify(pathToFileURL(bundleFile).href);
  return `"use strict";
const { startupSnapshot } = require("node:v8");
let __plugwireUrl = ${url};
let __plugwireServe;
globalThis[Symbol.for(${JSON.stringify(deferServeKey)})] = (run) => {
  if (!startupSnapshot.isBuildingSnapshot()) return run();
  if (__plugwireServe !== undefined) throw new Error("serve() was called twice");
  require("node:fs").writeFileSync(${JSON.stringify(status)}, "serve");
  return new Promise((resolve, reject) => { __plugwireServe = () => run().then(resolve, reject); });
};
// Objects that died during evaluation with a FinalizationRegistry entry (a diagnostics channel
// made and dropped, an AbortSignal.any) abort V8's serializer ("dirty finalization registries")
// if its own last GC finds them: collect them first (queryObjects runs a full GC) and give the
// registries' cleanup a turn of the loop, twice, then leave no listener behind.
let __plugwireCollected = 0;
const __plugwireCollect = () => {
  if (__plugwireCollected++ >= 2) return void process.off("beforeExit", __plugwireCollect);
  const { emitWarning } = process;
  process.emitWarning = () => {};
  try { require("node:v8").queryObjects(Object, { format: "count" }); } finally { process.emitWarning = emitWarning; }
  setImmediate(() => {});
};
process.on("beforeExit", __plugwireCollect);
startupSnapshot.setDeserializeMainFunction(() => {
  if (process.argv[1] !== undefined)
    __plugwireUrl = require("node:url").pathToFileURL(require("node:path").resolve(process.argv[1])).href;
  __plugwireServe();
});
(async () => {
${body}
})().catch((error) => { console.error(error); process.exit(1); });
`;
}

/**
 * What identifies the file at `path` for a plain-sh launcher: its inode, size and modification
 * time in seconds (GNU `stat`, else BSD's), "" where neither runs. Not `ls -l`: its line holds
 * the file's link count, which a hard link made elsewhere changes (pnpm's store, perf's build-id
 * cache), and shows a time of day only for files under six months old.
 */
export function nodeFingerprint(path: string): string {
  try {
    return execFileSync("/bin/sh", ["-c", fingerprintCommand(path)], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
const fingerprintCommand = (path: string) =>
  `stat -L -c '%i %s %Y' ${quote(path)} 2>/dev/null || stat -L -f '%i %z %m' ${quote(path)} 2>/dev/null`;

/**
 * A shell launcher for a bundle (beside it): the snapshot when the node binary is the one that
 * built it (same inode, size and time, so an upgrade in place falls back), else the bundle with
 * `nodeFlags`. `args` follow the bundle's path, then the launcher's own arguments.
 */
export function launcherScript(
  bundleName: string,
  nodeFlags: readonly string[],
  args: readonly string[],
  record: SnapshotRecord | undefined,
): string {
  const node = quote(process.execPath);
  const bundleArg = `"$dir"/${quote(bundleName)}`;
  const extra = args.map((a) => ` ${quote(a)}`).join("");
  const plain = `exec ${[node, ...nodeFlags.map(quote)].join(" ")} ${bundleArg}${extra} "$@"`;
  // No way to tell the binary again (no `stat` here): never the snapshot, which only the node
  // that built it can start.
  const fingerprint = record === undefined ? "" : nodeFingerprint(process.execPath);
  if (record === undefined || fingerprint === "")
    return `#!/bin/sh\ndir="$(dirname "$0")"\n${plain}\n`;
  return `#!/bin/sh
dir="$(dirname "$0")"
if [ -f "$dir"/${quote(record.blob)} ] && [ "$(${fingerprintCommand(process.execPath)})" = ${quote(fingerprint)} ]; then
  exec ${node} --snapshot-blob "$dir"/${quote(record.blob)} ${bundleArg}${extra} "$@"
fi
${plain}
`;
}
