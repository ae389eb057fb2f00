// The transport comparison behind docs/transport.md: plugwire's src/rpc against @grpc/grpc-js and
// plugwire's own HTTP/2 framing (src/rpc/h2), with bare node:http2 as the floor, in one run with
// interleaved repetitions:
//   unary 64 B sequential (median, p99), throughput with 64 calls in flight, and process
//   "load + listen" (spawn → listening on a unix socket) against `node -e 0` (spawn → exit).
//
//   node bench/transport/run.ts [--quick] [--reps N] [--out FILE]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { helperNodeFlags, repoRoot } from "../pairings.ts";
import { runJsonLine } from "../proc.ts";
import { formatTable, writeJson } from "../report.ts";
import type { RowSpec } from "../rows.ts";
import { Results } from "../rows.ts";
import { msSince } from "../stats.ts";
import type { Impl } from "./impls.ts";
import { impls } from "./impls.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    out: { type: "string", default: join(repoRoot, "bench/results/transport.json") },
  },
});
const quick = values.quick;
const reps = Number(values.reps ?? (quick ? 1 : 5));
const calls = quick ? 50 : 3000;
const throughputMs = quick ? 100 : 1000;
const loadsPerRep = quick ? 1 : 5;
const child = join(repoRoot, "bench/transport/child.ts");
const labels: Record<Impl, string> = {
  plugwire: "plugwire src/rpc (node:http2)",
  "plugwire-h2": "plugwire src/rpc/h2 (own HTTP/2)",
  "grpc-js": "@grpc/grpc-js",
  http2: "bare node:http2 (floor, no protobuf)",
  raw: "raw unix socket, no HTTP/2 (fast-path floor)",
};

function callRow(key: "p50" | "p99" | "tp64", impl: Impl): RowSpec {
  const measurement = {
    p50: "unary 64 B sequential · median",
    p99: "unary 64 B sequential · p99",
    tp64: "throughput 64 B · 64 in flight",
  }[key];
  return {
    id: `transport.${key}.${impl}`,
    measurement,
    subject: labels[impl],
    unit: key === "tp64" ? "calls/s" : "µs",
    better: key === "tp64" ? "higher" : "lower",
    baseline: `transport.${key}.plugwire`,
    baselineLabel: impl === "plugwire" ? "itself" : "plugwire",
  };
}

const nodeE0: RowSpec = {
  id: "transport.load.node-e0",
  measurement: "load + listen (spawn → listening)",
  subject: "`node -e 0` (spawn → exit)",
  unit: "ms",
  better: "lower",
  baseline: "transport.load.node-e0",
  baselineLabel: "itself",
};
const loadRow = (impl: Impl): RowSpec => ({
  id: `transport.load.${impl}`,
  measurement: "load + listen (spawn → listening)",
  subject: labels[impl],
  unit: "ms",
  better: "lower",
  baseline: nodeE0.id,
  baselineLabel: "node -e 0",
});
const rssRow = (impl: Impl): RowSpec => ({
  id: `transport.rss.${impl}`,
  measurement: "RSS once listening",
  subject: labels[impl],
  unit: "MiB",
  better: "lower",
  baseline: "transport.rss.http2",
  baselineLabel: impl === "http2" ? "itself" : "bare http2",
});

/** Spawns a server; resolves with the time until it printed "ready", its RSS, and a stop function. */
async function startServer(impl: Impl, socket: string) {
  const t0 = process.hrtime.bigint();
  const server = spawn(process.execPath, [...helperNodeFlags, child, "serve", impl, socket], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await createInterface({ input: server.stdout! })[Symbol.asyncIterator]().next();
  const readyMs = msSince(t0);
  const [word, rss] = String(line.value).split(" ");
  if (word !== "ready") throw new Error(`${impl} server did not start`);
  return {
    readyMs,
    rssMiB: Number(rss),
    stop: async () => {
      server.kill("SIGKILL");
      if (server.exitCode === null && server.signalCode === null) await once(server, "exit");
    },
  };
}

async function nodeE0Ms(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const p = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await once(p, "exit");
  return msSince(t0);
}

const results = new Results();
for (const key of ["p50", "p99", "tp64"] as const)
  for (const impl of impls) results.row(callRow(key, impl));
results.row(nodeE0);
for (const impl of impls) results.row(loadRow(impl));
for (const impl of impls) results.row(rssRow(impl));

const dir = mkdtempSync(join(tmpdir(), "pw-transport-"));
const log = (line: string) => process.stderr.write(`[transport] ${line}\n`);
try {
  // Untimed: fills Node's compile cache for every helper, so no figure pays TypeScript stripping.
  for (const impl of impls) await (await startServer(impl, join(dir, `warm-${impl}`))).stop();
  for (let rep = 0; rep < reps; rep++) {
    const order = impls.map((_, i) => impls[(i + rep) % impls.length]!);
    log(`rep ${rep + 1}/${reps}: calls`);
    for (const impl of order) {
      const socket = join(dir, `${impl}-${rep}`);
      const server = await startServer(impl, socket);
      try {
        const result = await runJsonLine(process.execPath, [
          ...helperNodeFlags,
          child,
          "client",
          impl,
          socket,
          String(calls),
          String(throughputMs),
        ]);
        results.add(callRow("p50", impl), result.medianUs as number);
        results.add(callRow("p99", impl), result.p99Us as number);
        results.add(callRow("tp64", impl), result.callsPerSec64 as number);
      } finally {
        await server.stop();
      }
    }
    log(`rep ${rep + 1}/${reps}: load + listen`);
    for (let i = 0; i < loadsPerRep; i++) {
      results.add(nodeE0, await nodeE0Ms());
      for (const impl of order) {
        const server = await startServer(impl, join(dir, `load-${impl}-${rep}-${i}`));
        await server.stop();
        results.add(loadRow(impl), server.readyMs);
        results.add(rssRow(impl), server.rssMiB);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = results.finish();
const grpcJs = await import("@grpc/grpc-js/package.json", { with: { type: "json" } }).then(
  (m) => (m.default as { version: string }).version,
);
const meta = {
  date: new Date().toISOString(),
  command: `node bench/transport/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  reps,
  calls,
  throughputMs,
  loadsPerRep,
  node: process.version,
  grpcJs,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
};
writeJson(values.out, { meta, rows });
process.stdout.write(
  `\ntransport comparison (${reps} interleaved repetitions; node ${meta.node}; @grpc/grpc-js ${grpcJs}; ${meta.cpus})\n` +
    `median of the repetitions, spread = ±half their range; ratios from this run\n\n${formatTable(rows)}\n\nwritten ${values.out}\n`,
);
