// go-plugin's bidirectional counter plugin in TypeScript: Put asks the host's AddHelper (a
// callback handed over through the broker) to add the new value to the stored one. Values are
// stored as go-plugin's example stores them: `kv_<key>` holding {"Value": n}.
//   COUNTER_PLUGIN="examples/counter/plugin-ts/counter-plugin" ./bidirectional-example-host put c 3
import { readFile, writeFile } from "node:fs/promises";
import { implement, PluginError, serve } from "plugwire/plugin";
import { AddHelper, Counter } from "../gen/counter_pb.js";
import { handshake } from "../shared.ts";

async function load(key: string): Promise<bigint> {
  try {
    const { Value } = JSON.parse(await readFile(`kv_${key}`, "utf8")) as { Value: number };
    return BigInt(Value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0n;
    throw error;
  }
}

await serve({
  handshake,
  services: [
    implement(Counter, {
      async put({ addServer, key, value }, { broker }) {
        if (broker === undefined) throw new PluginError("FAILED_PRECONDITION", "no broker");
        const adder = await broker.client(addServer, AddHelper);
        const { r } = await adder.sum({ a: await load(key), b: value });
        await writeFile(`kv_${key}`, JSON.stringify({ Value: Number(r) }));
        return {};
      },
      async get({ key }) {
        try {
          const { Value } = JSON.parse(await readFile(`kv_${key}`, "utf8")) as { Value: number };
          return { value: BigInt(Value) };
        } catch (error) {
          throw new PluginError("NOT_FOUND", `no value for ${key}: ${(error as Error).message}`);
        }
      },
    }),
  ],
});
