// The host: starts the plugin as a separate process and calls it like a local object.
// Run it with `npm run host -- <name>`.
import { fileURLToPath } from "node:url";
import { startPlugin } from "plugwire";
import { Greeter } from "./gen/greeter/v1/greeter_pb.js";
import { handshake } from "./handshake.ts";

const plugin = await startPlugin({
  cmd: process.execPath,
  args: [fileURLToPath(new URL("./plugin.ts", import.meta.url))],
  handshake,
  plugins: { greeter: Greeter },
});
try {
  const greeter = plugin.dispense("greeter");
  const name = process.argv[2] ?? "world";
  console.log((await greeter.greet({ name }, { timeoutMs: 5000 })).greeting);
  for await (const { greeting } of greeter.greetMany({ name, count: 3 })) console.log(greeting);
} finally {
  await plugin.kill();
}
