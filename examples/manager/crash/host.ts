// Iglu-style supervision: a plugin crashes, is restarted with backoff, keeps crashing, and the
// breaker disables it, saying why. Its manifest stays known throughout.
//   node examples/manager/crash/host.ts
import { fileURLToPath } from "node:url";
import type { PluginError } from "plugwire";
import { launchProcess, ManagedPlugin, PluginRegistry } from "plugwire/manager";
import { providerHandshake } from "../providers/handshake.ts";

const entry = fileURLToPath(new URL("./flaky-plugin.ts", import.meta.url));
await using registry = new PluginRegistry();
const flaky = new ManagedPlugin({
  id: "example.flaky",
  launch: (signal) =>
    launchProcess({ cmd: process.execPath, args: [entry], handshake: providerHandshake }, signal),
  restart: { initialDelayMs: 100 },
  breaker: { maxCrashes: 3, windowMs: 60_000 },
});
registry.add(flaky);
flaky.on("state", (s) =>
  console.log(`  state: ${s.t}${s.t === "restarting" ? ` in ${s.delayMs} ms` : ""}`),
);

console.log("first call:", await registry.callProvider("pid", {}));
for (let i = 1; i <= 3; i++) {
  try {
    await registry.callProvider("crash", {});
  } catch (error) {
    console.log(`crash #${i}: ${(error as PluginError).code}`);
  }
  // The next call waits for the restart, or fails at once when the breaker has disabled the
  // plugin: whichever the host saw first, the exit or the failed call, it counts one crash.
  try {
    console.log("after restart:", await registry.callProvider("pid", {}));
  } catch (error) {
    console.log(`disabled: ${(error as PluginError).message}`);
    break;
  }
}
console.log(
  `manifest kept: ${flaky.manifest.id} ${flaky.manifest.version}, restarts: ${flaky.restarts}`,
);
