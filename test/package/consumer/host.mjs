// A host in plain JavaScript on the installed package. It starts plugin.mjs, calls it, stops it
// with a grace period far longer than the test's deadline, and reports what it did as JSON lines
// on stdout; the test then checks that the process exits by itself at once.
import { fileURLToPath } from "node:url";
import { PluginError, startPlugin } from "plugwire";
import { KV } from "./kv/gen/kv_pb.js";

const report = (fields) => process.stdout.write(`${JSON.stringify(fields)}\n`);
const plugin = await startPlugin({
  cmd: process.execPath,
  args: [fileURLToPath(new URL("./plugin.mjs", import.meta.url))],
  handshake: { magicCookieKey: "BASIC_PLUGIN", magicCookieValue: "hello", protocolVersion: 1 },
  plugins: { kv: KV },
  killGraceMs: 120_000,
});
const kv = plugin.dispense("kv");
await kv.put({ key: "hello", value: new TextEncoder().encode("world") });
const { value } = await kv.get({ key: "hello" });
let missing;
try {
  await kv.get({ key: "nothing" });
} catch (error) {
  missing = error instanceof PluginError ? error.code : String(error);
}
report({ value: new TextDecoder().decode(value), missing, wire: plugin.wire, tls: plugin.tls });
await plugin.kill();
report({ killed: true, state: plugin.state.t, node: process.versions.node });
