// go-plugin's bidirectional example host in TypeScript: `put <key> <n>` adds n to the counter,
// `get <key>` prints it. The host hands the plugin an AddHelper it serves through the broker.
//   COUNTER_PLUGIN=examples/counter/plugin-ts/counter-plugin node examples/counter/host.ts put c 3
import { implement, startPlugin } from "plugwire";
import { AddHelper } from "./gen/counter_pb.js";
import { handshake, plugins } from "./shared.ts";

const [command, key = "", amount = "0"] = process.argv.slice(2);
const [cmd = "", ...args] = (process.env.COUNTER_PLUGIN ?? "").split(" ").filter(Boolean);
if (cmd === "" || (command !== "put" && command !== "get")) {
  console.error(
    "usage: COUNTER_PLUGIN=<plugin command> node examples/counter/host.ts put <key> <n> | get <key>",
  );
  process.exit(2);
}

await using plugin = await startPlugin({ cmd, args, handshake, plugins });
const counter = plugin.dispense("counter");
if (command === "put") {
  // The callback: the plugin calls this to add numbers, through a brokered connection.
  const adder = await plugin.broker.serve(
    implement(AddHelper, { sum: ({ a, b }) => ({ r: a + b }) }),
  );
  await counter.put({ addServer: adder.id, key, value: BigInt(amount) });
} else {
  console.log(String((await counter.get({ key })).value));
}
