// The host side of the MuxBroker example: serves an Adder and has the plugin call it (host →
// plugin → host), then dials the Adder the plugin serves (host → plugin, on a brokered stream).
//   node examples/netrpc/bidirectional/host.ts PLUGIN [ARGS...]
//   node examples/netrpc/bidirectional/host.ts .cache/interop-go/netrpc-plugin    (the Go plugin)
import { startPlugin } from "plugwire";
import { Adder, Calculator, handshake, pluginName } from "./calculator.ts";

const [cmd, ...args] = process.argv.slice(2);
if (cmd === undefined) {
  console.error("usage: node examples/netrpc/bidirectional/host.ts PLUGIN [ARGS...]");
  process.exit(2);
}
await using plugin = await startPlugin({
  cmd,
  args,
  handshake,
  plugins: { [pluginName]: Calculator },
});
const calculator = plugin.dispense(pluginName);
const broker = plugin.muxBroker!;

// Host serves, plugin dials: the id goes over in the call.
const served = await broker.serve(Adder, { Add: ({ A, B }) => A + B });
console.log(
  `the plugin added through the host's Adder: 2 + 3 = ${await calculator.AddVia({ ID: served.id, A: 2, B: 3 })}`,
);

// Plugin serves, host dials.
const id = await calculator.ServeAdder({});
const adder = await broker.client(id, Adder);
console.log(
  `the host added through the plugin's Adder (id ${id}): 20 + 22 = ${await adder.Add({ A: 20, B: 22 })}`,
);
