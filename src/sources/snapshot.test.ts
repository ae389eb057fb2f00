// A plugin started from its V8 startup snapshot (snapshot.ts), as real processes: the handshake,
// unary, streaming and callback calls (the call context survives deserialization), AutoMTLS,
// stdio and logs, kill; and every way it falls back to the bundle.
import assert from "node:assert/strict";
import {
  chmodSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { fixtureService } from "../../test/fixtures/fixture-service.ts";
import {
  repoRoot,
  testHandshake,
  testPlugins,
  waitFor,
  waitForExit,
} from "../../test/support/fixture.ts";
import { build } from "../cli/commands/build.ts";
import type { SnapshotRecord } from "../discovery/snapshot-record.ts";
import { readSnapshotRecord, sameNode, thisNode } from "../discovery/snapshot-record.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { startPlugin } from "../host/start/start.ts";
import { bundle, fileHash } from "./bundle.ts";
import { buildSnapshot, launcherScript, nodeFingerprint } from "./snapshot.ts";

const fail = (step: string, message: string, output = ""): never => {
  throw new PluginError("BUILD_FAILED", `${step}: ${message}\n${output}`);
};
const src = (path: string) => JSON.stringify(join(repoRoot, path));

/** A plugin reporting, through PingPong, what its process sees at run time and saw at build time. */
const probePlugin = `import { implement, serve } from ${src("src/plugin/index.ts")};
import { fixtureService } from ${src("test/fixtures/fixture-service.ts")};
import { PingPong, Test } from ${src("test/fixtures/gen/grpctest_pb.js")};
const topLevel = { probe: process.env.SNAPSHOT_PROBE ?? "unset", pid: process.pid };
console.log("printed at the top level");
await serve({
  handshake: ${JSON.stringify(testHandshake)},
  services: [
    implement(Test, {
      double: ({ Input }) => ({ Output: Input * 2 }),
      printKV: () => ({}),
      bidirectional: () => ({ id: 0 }),
      async *stream(requests) { for await (const { Input } of requests) yield { Output: Input + 1 }; },
      printStdio: ({ stdout, stderr }) => { process.stdout.write(stdout); process.stderr.write(stderr); return {}; },
      panic: () => process.exit(2),
    }),
    implement(PingPong, {
      ping: () => ({ msg: JSON.stringify({ topLevel, probe: process.env.SNAPSHOT_PROBE ?? "unset",
        pid: process.pid, argv: process.argv.slice(1), execArgv: process.execArgv, url: import.meta.url }) }),
    }),
    fixtureService(),
  ],
});
console.error("after serve");
`;

/** A stream that keeps what is written to it. */
function collected() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

interface Seen {
  topLevel: { probe: string; pid: number };
  probe: string;
  pid: number;
  argv: string[];
  execArgv: string[];
  url: string;
}

describe("a plugin started from its startup snapshot", () => {
  let dir: string;
  let bundleFile: string;
  let record: SnapshotRecord;
  let launcher: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pw-snapshot-"));
    const entry = join(dir, "plugin.ts");
    writeFileSync(entry, probePlugin);
    bundleFile = join(dir, "bundle.mjs");
    const options = { entry, staged: repoRoot, dir: repoRoot, fail };
    await bundle({ ...options, outfile: bundleFile });
    process.env.SNAPSHOT_PROBE = "build";
    const built = await buildSnapshot(options, bundleFile).finally(() => {
      delete process.env.SNAPSHOT_PROBE;
    });
    assert.ok(built.ok, built.ok ? "" : built.reason);
    record = built.record;
    launcher = join(dir, "plugin");
    writeFileSync(launcher, launcherScript("bundle.mjs", [], ["--flag"], record));
    chmodSync(launcher, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (cmd: string, options: Record<string, unknown> = {}) =>
    startPlugin({
      cmd,
      handshake: testHandshake,
      plugins: testPlugins,
      startTimeoutMs: 30_000,
      env: { SNAPSHOT_PROBE: "run" },
      ...options,
    });

  it("records the blob, the bundle it was built from and this node beside the bundle", () => {
    assert.deepEqual(readSnapshotRecord(bundleFile), record);
    assert.equal(record.blob, "bundle.snapshot.blob");
    assert.equal(record.bundle, fileHash(bundleFile));
    assert.equal(record.sha256, fileHash(join(dir, record.blob)));
    assert.equal(sameNode(record), true);
    assert.equal(sameNode(record, { ...thisNode(), versions: "other" }), false);
    assert.equal(readSnapshotRecord(join(dir, "nothing.mjs")), undefined);
  });

  for (const autoMtls of [false, true])
    it(`serves from the snapshot: handshake, calls, streams, a callback with the call's deadline, stdio, kill (${autoMtls ? "AutoMTLS" : "plain"})`, async () => {
      const stdout = collected();
      const stderr = collected();
      const plugin = await start(launcher, {
        autoMtls,
        syncStdout: stdout.stream,
        syncStderr: stderr.stream,
      });
      const seen = JSON.parse((await plugin.dispense("pingpong").ping({})).msg) as Seen;
      // Started from the blob; argv and import.meta.url as `node bundle.mjs --flag` has them.
      assert.deepEqual(seen.execArgv.slice(0, 1), ["--snapshot-blob"]);
      assert.deepEqual(seen.argv, [bundleFile, "--flag"]);
      assert.equal(seen.url, pathToFileURL(bundleFile).href);
      // Top-level code ran when the snapshot was built, without the building process's
      // variables (SNAPSHOT_PROBE=build); serve() and the handlers run here.
      assert.equal(seen.topLevel.probe, "unset");
      assert.notEqual(seen.topLevel.pid, seen.pid);
      assert.equal(seen.probe, "run");
      assert.equal(plugin.pid, seen.pid);

      assert.equal((await plugin.dispense("test").double({ Input: 21 })).Output, 42);
      const counted: number[] = [];
      for await (const { i } of plugin.dispense("fixture").count({ n: 3 })) counted.push(i);
      assert.deepEqual(counted, [0, 1, 2]);
      const bidi = plugin.dispense("test").stream(
        (async function* () {
          yield { Input: 1 };
          yield { Input: 2 };
        })(),
      );
      const streamed: number[] = [];
      for await (const { Output } of bidi) streamed.push(Output);
      assert.deepEqual(streamed, [2, 3]);
      // The plugin's call back into the host inherits the call's deadline through
      // AsyncLocalStorage (src/rpc/core/call-context.ts), which survives deserialization.
      const served = await plugin.broker.serve(fixtureService());
      const reply = await plugin
        .dispense("fixture")
        .callBack({ brokerId: served.id, durationMs: 1 }, { timeoutMs: 60_000 });
      assert.ok(reply.deadlineRemainingMs > 0, String(reply.deadlineRemainingMs));

      // The code after `await serve()` ran in this process; what the top level printed went to
      // the build's output, not here.
      await waitFor(() => stderr.text() === "after serve\n", 10_000, "stderr");
      await plugin.dispense("test").printStdio({ stdout: Buffer.from("hello\n") });
      await waitFor(() => stdout.text() === "hello\n", 10_000, "stdout sync");
      const pid = plugin.pid!;
      await plugin.kill();
      await waitForExit(pid);
    });

  it("plugwire build --snapshot writes the bundle, its snapshot and a launcher that starts it", async () => {
    const out = join(dir, "built", "plugin.bundle.mjs");
    const log: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => log.push(chunk) > 0) as typeof write;
    try {
      assert.equal(await build(join(dir, "plugin.ts"), { out, snapshot: true }), 0);
    } finally {
      process.stdout.write = write;
    }
    assert.match(
      log.join(""),
      /run it as: .*plugin\.bundle\.sh \(the snapshot on this node binary/,
    );
    assert.equal(readSnapshotRecord(out)?.blob, "plugin.bundle.snapshot.blob");
    await using plugin = await start(join(dir, "built", "plugin.bundle.sh"));
    const seen = JSON.parse((await plugin.dispense("pingpong").ping({})).msg) as Seen;
    assert.equal(seen.execArgv[0], "--snapshot-blob");
    assert.deepEqual(seen.argv, [out]);
  });

  it("falls back to the bundle when the blob is missing or the node binary is not the one that built it", async () => {
    const other = join(dir, "other-node");
    const script = launcherScript("bundle.mjs", [], [], record).replace(
      /= '[^']*' \]; then/,
      "= 'a different binary' ]; then",
    );
    writeFileSync(other, script);
    chmodSync(other, 0o755);
    const noBlob = join(dir, "no-blob");
    writeFileSync(
      noBlob,
      launcherScript("bundle.mjs", [], [], { ...record, blob: "missing.snapshot.blob" }),
    );
    chmodSync(noBlob, 0o755);
    for (const cmd of [other, noBlob]) {
      await using plugin = await start(cmd);
      const seen = JSON.parse((await plugin.dispense("pingpong").ping({})).msg) as Seen;
      assert.deepEqual(seen.execArgv, []);
      assert.deepEqual(seen.argv, [bundleFile]);
      assert.equal(seen.topLevel.probe, "run");
      assert.equal((await plugin.dispense("test").double({ Input: 2 })).Output, 4);
    }
  });
});

describe("building a snapshot", () => {
  it("survives top-level code that drops objects with finalizers (a diagnostics channel, AbortSignal.any)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-snapshot-"));
    try {
      const entry = join(dir, "plugin.ts");
      // Left for V8's last GC, either aborts the build ("dirty finalization registries").
      writeFileSync(
        entry,
        `import { serve } from ${src("src/plugin/index.ts")};
import { channel } from "node:diagnostics_channel";
for (let i = 0; i < 100; i++) channel(\`dropped-\${i}\`);
AbortSignal.any([new AbortController().signal]);
await serve({ handshake: ${JSON.stringify(testHandshake)}, services: [] });\n`,
      );
      const bundleFile = join(dir, "bundle.mjs");
      const options = { entry, staged: repoRoot, dir: repoRoot, fail };
      await bundle({ ...options, outfile: bundleFile });
      const built = await buildSnapshot(options, bundleFile);
      assert.ok(built.ok, built.ok ? "" : built.reason);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("plugins without a snapshot", () => {
  const attempt = async (source: string) => {
    const dir = mkdtempSync(join(tmpdir(), "pw-snapshot-"));
    try {
      const entry = join(dir, "plugin.ts");
      writeFileSync(entry, source);
      const bundleFile = join(dir, "bundle.mjs");
      const options = { entry, staged: repoRoot, dir: repoRoot, fail };
      await bundle({ ...options, outfile: bundleFile });
      const before = readFileSync(bundleFile);
      const built = await buildSnapshot(options, bundleFile);
      assert.equal(built.ok, false);
      // The bundle is left as it was, with no snapshot beside it.
      assert.ok(readFileSync(bundleFile).equals(before));
      assert.equal(readSnapshotRecord(bundleFile), undefined);
      return built.ok ? "" : built.reason;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("says why: serve() never called, top-level code throwing, a native handle at top level", async () => {
    assert.match(await attempt("export {};\n"), /did not call serve\(\)/);
    assert.match(await attempt('throw new Error("boom at the top");\n'), /boom at the top/);
    assert.match(
      await attempt(
        `import { serve } from ${src("src/plugin/index.ts")};
import { BlockList } from "node:net";
export const kept = new BlockList();
await serve({ handshake: ${JSON.stringify(testHandshake)}, services: [] });\n`,
      ),
      /build-snapshot failed/,
    );
  });
});

describe("the launcher's test that node is the binary that built the snapshot", () => {
  it("holds across a hard link made elsewhere; a new time or size, or no file, fails it", () => {
    const dir = mkdtempSync(join(tmpdir(), "plugwire-fingerprint-"));
    try {
      const binary = join(dir, "node");
      writeFileSync(binary, "a binary");
      utimesSync(binary, new Date(2020, 0, 1), new Date(2020, 0, 1)); // older than six months
      const built = nodeFingerprint(binary);
      assert.match(built, /^\d+ 8 \d+$/); // inode, size, time
      linkSync(binary, join(dir, "a-hard-link")); // what pnpm's store or perf's cache does
      assert.equal(nodeFingerprint(binary), built);
      utimesSync(binary, new Date(2021, 0, 1), new Date(2021, 0, 1));
      assert.notEqual(nodeFingerprint(binary), built);
      writeFileSync(binary, "another binary");
      assert.notEqual(nodeFingerprint(binary), built);
      assert.equal(nodeFingerprint(join(dir, "missing")), "");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
