// The net/rpc KV plugin of go-plugin's examples/grpc (its plugin-go-netrpc) in TypeScript, with
// the same file behaviour: Put writes `kv_<key>` in the working directory (the value and a
// trailer), Get reads it back. go-plugin's KV host runs it with KV_PROTO=netrpc:
//   KV_PROTO=netrpc KV_PLUGIN="$REPO/examples/netrpc/node $REPO/examples/netrpc/kv/plugin.ts" \
//     $REPO/.cache/interop-go/kv-example-host put hello world
import { readFileSync, writeFileSync } from "node:fs";
import { netrpcPlugin, serve } from "plugwire/plugin";
import { handshake } from "../greeter/greeter.ts";
import { KV, putFields } from "./kv.ts";

await serve({
  handshake,
  plugins: {
    kv: netrpcPlugin(KV, {
      Put(args) {
        const { key, value } = putFields(args);
        writeFileSync(`kv_${key}`, `${value}\n\nWritten from plugin-go-netrpc`);
        return null;
      },
      Get: (key) => readFileSync(`kv_${key}`),
    }),
  },
});
