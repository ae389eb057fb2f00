// The Iglu host of the "Reliable Plugins in Go" post in TypeScript: loads every plugin in a
// folder over go-plugin's net/rpc protocol (Go and TypeScript plugins side by side), caches each
// one's GetManifest, and reports a plugin that crashes while the others carry on. The post polls
// `client.Exited()`; plugwire's supervisor tells the host at once (the `crash` event).
//   node examples/netrpc/iglu/host.ts [PLUGIN_DIR] [--once]
// Without --once it runs until stdin ends (Ctrl-D) or Ctrl-C.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { GoValue } from "plugwire";
import type { ManagedPlugin } from "plugwire/manager";
import { PluginRegistry } from "plugwire/manager";
import type { PluginManifest } from "./iglu.ts";
import { handshake, Iglu, plugins } from "./iglu.ts";

const { values, positionals } = parseArgs({
  options: { once: { type: "boolean", default: false } },
  allowPositionals: true,
});
const dir = positionals[0] ?? fileURLToPath(new URL("./plugins", import.meta.url));

interface Loaded {
  readonly plugin: ManagedPlugin;
  /** Cached, as the post does, so a crashed plugin is still described. */
  readonly manifest: GoValue<typeof PluginManifest>;
}

const registry = new PluginRegistry();
const { found, skipped } = await registry.discover({
  paths: [dir],
  handshake,
  process: { plugins },
  // A crashed plugin stays crashed, as in the post (the supervisor could restart it instead).
  supervise: { autoRestart: false },
});
for (const skip of skipped) console.log(`skipped ${basename(skip.path)}: ${skip.message}`);

const loaded = new Map<string, Loaded>();
for (const { plugin, path } of found) {
  const { Manifest: m } = await plugin.dispense("iglu_plugin", Iglu).GetManifest(null);
  loaded.set(m.Id, { plugin, manifest: m });
  const how = `${basename(path)}, ${plugin.manifest.protocol}, pid ${plugin.connection?.info.pid}`;
  console.log(
    `loaded ${m.Id} ${m.Version}: ${m.Name} by ${m.Author} [${m.Capabilities.join(", ")}] (${how})`,
  );
  plugin.on("crash", (error) => {
    console.log(`crashed ${m.Id}: ${error.rawMessage}`);
    void listManifests();
  });
}

/** Every plugin's manifest: asked again of the running ones, the cached one of the crashed. */
async function listManifests(): Promise<void> {
  for (const [id, { plugin, manifest }] of loaded) {
    if (plugin.state.t !== "running") {
      console.log(
        `  ${id}: ${plugin.state.t}, cached manifest ${manifest.Name} ${manifest.Version}`,
      );
      continue;
    }
    const { Manifest: m } = await plugin.dispense("iglu_plugin", Iglu).GetManifest(null);
    console.log(`  ${id}: running, ${m.Name} ${m.Version}`);
  }
  console.log("listed");
}

console.log(`ready: ${loaded.size} plugins`);
if (!values.once) {
  process.once("SIGINT", () => process.stdin.destroy());
  for await (const _ of process.stdin);
}
await registry.close();
