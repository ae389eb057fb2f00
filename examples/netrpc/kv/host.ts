// go-plugin's examples/grpc host, net/rpc half, in TypeScript: the same command line and the
// same KV_PLUGIN variable, so it runs go-plugin's plugin-go-netrpc or this folder's plugin.
//   KV_PLUGIN=.cache/interop-go/kv-example-plugin-netrpc node examples/netrpc/kv/host.ts put hello world
//   KV_PLUGIN=.cache/interop-go/kv-example-plugin-netrpc node examples/netrpc/kv/host.ts get hello
import { startPlugin } from "plugwire";
import { handshake } from "../greeter/greeter.ts";
import { KV, putArgs } from "./kv.ts";

const [command, key = "", value = ""] = process.argv.slice(2);
const [cmd = "", ...args] = (process.env.KV_PLUGIN ?? "").split(" ").filter(Boolean);
if (cmd === "" || (command !== "put" && command !== "get")) {
  console.error(
    "usage: KV_PLUGIN=<plugin command> node examples/netrpc/kv/host.ts put <key> <value> | get <key>",
  );
  process.exit(2);
}
await using plugin = await startPlugin({ cmd, args, handshake, plugins: { kv: KV } });
const kv = plugin.dispense("kv");
if (command === "put") await kv.Put(putArgs(key, Buffer.from(value)));
else console.log(Buffer.from(await kv.Get(key)).toString());
