// Measures what the plugin-manager issue asks for:
//  * discovery of 20 plugins (a directory of 20 provider plugins, wall time, parallel), and
//  * restart after a crash (SIGKILL → running again, and → first successful call).
//   node examples/manager/measure.ts [count]
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileCacheImport } from "../../src/discovery/package-manifest.ts";
import { Provider } from "../../src/gen/plugwire/manifest/v1/manifest_pb.js";
import { PluginRegistry } from "../../src/manager/index.ts";
import { waitForState } from "../../src/testing/index.ts";
import { providerHandshake } from "./providers/handshake.ts";

const count = Number(process.argv[2] ?? 20);
const entry = fileURLToPath(new URL("./crash/flaky-plugin.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pw-measure-"));
try {
  for (let i = 0; i < count; i++) {
    const file = join(dir, `plugin-${String(i).padStart(2, "0")}`);
    writeFileSync(
      file,
      // As plugwire's own launchers do: Node's compile cache for the TypeScript entry.
      `#!/bin/sh\nPLUGIN_ID=example.flaky-${i} exec '${process.execPath}' --import "${compileCacheImport}" '${entry}' "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
  await using registry = new PluginRegistry();
  const result = await registry.discover({
    paths: [dir],
    handshake: providerHandshake,
    startTimeoutMs: 30_000,
    supervise: { restart: { initialDelayMs: 100, jitter: 0 } },
  });
  console.log(
    `discovery of ${count} plugins: ${result.elapsedMs} ms wall (${result.found.length} registered, ${result.skipped.length} skipped)`,
  );

  for (const skipped of result.skipped)
    console.log(`  skipped ${skipped.path}: ${skipped.message}`);
  const plugin = registry.list()[0]!;
  const pid = plugin.connection!.info.pid!;
  const t0 = performance.now();
  const crashed = waitForState(plugin, "crashed", 10_000);
  process.kill(pid, "SIGKILL");
  await crashed;
  await waitForState(plugin, "running", 10_000);
  const running = performance.now() - t0;
  await plugin.client(Provider).execute({ name: "pid", inputJson: "{}" });
  const served = performance.now() - t0;
  console.log(
    `restart after a crash: ${running.toFixed(0)} ms to running again (backoff 100 ms included), ${served.toFixed(0)} ms to the first call served`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
