// h2spec, an HTTP/2 conformance suite (github.com/summerwind/h2spec), against plugwire's own
// HTTP/2 server (src/rpc/h2): every case, plain and over TLS with ALPN h2, strict mode included.
// h2spec's requests are GET /: our server reads them like any request and answers 415 with a
// line of text (gRPC's answer to a request that is not gRPC), so the cases that need a response
// body run too. The binary is installed into .cache/h2spec on first use (`go install`; v2.2.1
// is the latest version the module proxy serves).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { RpcServer } from "../../src/rpc/grpc/server.ts";
import type { H2Listener } from "../../src/rpc/h2/listener.ts";
import { createH2Listener } from "../../src/rpc/h2/listener.ts";
import { generateTlsIdentity } from "../../src/transport/auto-mtls.ts";
import { fixtureService } from "../fixtures/fixture-service.ts";
import { repoRoot } from "../support/fixture.ts";

const h2specDir = join(repoRoot, ".cache/h2spec");
const h2spec = join(h2specDir, "h2spec");
const h2specModule = "github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible";

function installH2spec(): void {
  if (existsSync(h2spec)) return;
  execFileSync("go", ["install", h2specModule], {
    env: { ...process.env, GOBIN: h2specDir },
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 600_000,
  });
}

/** Runs h2spec against `port`; resolves with its output (it exits non-zero on any failure). */
function runH2spec(port: number, flags: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      h2spec,
      ["-h", "127.0.0.1", "-p", String(port), "-o", "5", ...flags],
      { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}

function assertAllPassed(output: string): void {
  const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(output);
  assert.ok(summary !== null, `h2spec printed no summary:\n${output.slice(-4000)}`);
  const [, tests, passed, skipped, failed] = summary.map(Number);
  const failures = output.slice(output.indexOf("Failures:"));
  assert.equal(failed, 0, `h2spec failures:\n${failures.slice(0, 8000)}`);
  assert.equal(skipped, 0, "every case applies: none may be skipped");
  assert.equal(passed, tests);
  assert.ok((tests ?? 0) >= 145, `h2spec ran only ${tests} cases`);
}

describe("h2spec against plugwire's HTTP/2 server", () => {
  const rpc = new RpcServer().register(fixtureService());
  const listeners: H2Listener[] = [];

  async function serve(tls: boolean): Promise<number> {
    const identity = tls ? await generateTlsIdentity() : undefined;
    const listener = createH2Listener(
      rpc,
      identity === undefined
        ? undefined
        : (options, onSecure) =>
            createTlsServer({ key: identity.keyPem, cert: identity.certPem, ...options }, onSecure),
    );
    listeners.push(listener);
    await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
    return (listener.server.address() as AddressInfo).port;
  }

  before(() => installH2spec());
  after(async () => {
    await Promise.all(listeners.map((listener) => listener.close(100)));
  });

  it("passes every case over plain TCP (h2c with prior knowledge)", async () => {
    assertAllPassed(await runH2spec(await serve(false), []));
  });

  it("passes every case in strict mode", async () => {
    assertAllPassed(await runH2spec(await serve(false), ["-S"]));
  });

  it("passes every case over TLS with ALPN h2", async () => {
    assertAllPassed(await runH2spec(await serve(true), ["-t", "-k"]));
  });
});
