// The key/value plugin of go-plugin's examples/grpc, in TypeScript: Put writes `kv_<key>` in the
// working directory, Get reads it back. go-plugin's own example host runs it unchanged:
//   KV_PROTO=grpc KV_PLUGIN="examples/kv/plugin-ts/kv-plugin" ./kv-example-host put hello world
import { readFile, writeFile } from "node:fs/promises";
import { createPluginLogger, implement, PluginError, serve } from "plugwire/plugin";
import { KV } from "../gen/kv_pb.js";
import { handshake } from "../shared.ts";

const log = createPluginLogger({ name: "kv-ts" });

await serve({
  handshake,
  services: [
    implement(KV, {
      async put({ key, value }) {
        log.info("put", { key, bytes: value.length });
        await writeFile(
          `kv_${key}`,
          Buffer.concat([value, Buffer.from("\n\nWritten from plugin-ts")]),
        );
        return {};
      },
      async get({ key }) {
        log.info("get", { key });
        try {
          return { value: await readFile(`kv_${key}`) };
        } catch (error) {
          throw new PluginError(
            "NOT_FOUND",
            `no value for key ${key}: ${(error as Error).message}`,
          );
        }
      },
    }),
  ],
});
