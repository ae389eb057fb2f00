// The demo: one TypeScript host runs the same key/value plugin written in TypeScript, in Go
// (go-plugin's own example plugin) and in Python (grpcio), puts and gets through each, shows their
// logs mirrored into the host's log, and shuts them down cleanly.
//   npm run demo
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createConsoleLogger, startPlugin } from "plugwire";
import { handshake, plugins } from "./kv/shared.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const logger = createConsoleLogger({ level: "debug", stream: process.stdout });
const workDir = mkdtempSync(join(tmpdir(), "plugwire-demo-"));

const implementations = [
  { name: "kv-typescript", cmd: join(root, "examples/kv/plugin-ts/kv-plugin"), args: [] },
  { name: "kv-go", cmd: join(root, ".cache/interop-go/kv-example-plugin"), args: [] },
  {
    name: "kv-python",
    cmd: join(root, ".cache/venv/bin/python3"),
    args: [join(root, "examples/kv/plugin-python/plugin.py")],
  },
];

console.log(
  `plugwire demo: one host, the same KV plugin in three languages (files in ${workDir})\n`,
);
try {
  for (const impl of implementations) {
    const started = performance.now();
    await using plugin = await startPlugin({ ...impl, cwd: workDir, handshake, plugins, logger });
    const startMs = performance.now() - started;
    console.log(
      `\n== ${plugin.name}: pid ${plugin.pid}, ${plugin.network} ${plugin.address}, ` +
        `protocol v${plugin.negotiatedVersion}, AutoMTLS ${plugin.tls ? "on" : "off"}, started in ${startMs.toFixed(0)} ms`,
    );
    const kv = plugin.dispense("kv");
    const key = `greeting-${impl.name}`;
    await kv.put({ key, value: new TextEncoder().encode(`hello from the host to ${impl.name}`) });
    const { value } = await kv.get({ key });
    console.log(`get ${key} -> ${JSON.stringify(new TextDecoder().decode(value))}`);
    await plugin.ping();
    await plugin.kill();
    const exit = await plugin.exited;
    console.log(`stopped: exit code ${exit.code}${exit.forced ? " (forced)" : ", gracefully"}`);
  }
  console.log("\nAll three plugins answered through one typed client and exited cleanly.");
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
