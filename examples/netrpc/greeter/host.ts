// go-plugin's examples/basic host in TypeScript: starts a greeter plugin and prints its Greet.
//   node examples/netrpc/greeter/host.ts .cache/interop-go/basic-example-greeter   (go-plugin's)
//   node examples/netrpc/greeter/host.ts examples/netrpc/node examples/netrpc/greeter/plugin.ts
import { createConsoleLogger, startPlugin } from "plugwire";
import { Greeter, handshake } from "./greeter.ts";

const [cmd, ...args] = process.argv.slice(2);
if (cmd === undefined) {
  console.error("usage: node examples/netrpc/greeter/host.ts PLUGIN [ARGS...]");
  process.exit(2);
}
await using plugin = await startPlugin({
  cmd,
  args,
  handshake,
  plugins: { greeter: Greeter },
  // The plugin's log lines, mirrored on stderr as go-plugin's host mirrors them.
  logger: createConsoleLogger({ level: "debug" }),
});
console.log(await plugin.dispense("greeter").Greet(null));
