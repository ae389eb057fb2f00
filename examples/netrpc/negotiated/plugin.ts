// go-plugin's examples/negotiated plugin in TypeScript: version 2 of the KV over net/rpc,
// version 3 over gRPC; the version the host offers decides the protocol. Its Go host runs it as
// ./kv-plugin (KV_PROTO=grpc offers 3, KV_PROTO=netrpc offers 2):
//   printf '#!/bin/sh\nexec %s %s\n' "$REPO/examples/netrpc/node" \
//     "$REPO/examples/netrpc/negotiated/plugin.ts" > kv-plugin && chmod +x kv-plugin
//   KV_PROTO=grpc $REPO/.cache/interop-go/negotiated-example-host put hello world
//   KV_PROTO=netrpc $REPO/.cache/interop-go/negotiated-example-host get hello
import { readFileSync, writeFileSync } from "node:fs";
import { implement, netrpcPlugin, serve } from "plugwire/plugin";
import { KV as KVService } from "../../kv/gen/kv_pb.js";
import { handshake } from "../greeter/greeter.ts";
import { KV, putFields } from "../kv/kv.ts";

const text = (value: Uint8Array) => Buffer.from(value).toString();

await serve({
  handshake,
  versions: {
    2: {
      kv: netrpcPlugin(KV, {
        Put(args) {
          const { key, value } = putFields(args);
          writeFileSync(`kv_${key}`, `${value}\n\nWritten from plugin version 2\n`);
          return null;
        },
        Get: (key) =>
          Buffer.concat([readFileSync(`kv_${key}`), Buffer.from("Read by plugin version 2\n")]),
      }),
    },
    3: [
      implement(KVService, {
        put({ key, value }) {
          writeFileSync(`kv_${key}`, `${text(value)}\n\nWritten from plugin version 3\n`);
          return {};
        },
        get: ({ key }) => ({
          value: Buffer.concat([
            readFileSync(`kv_${key}`),
            Buffer.from("Read by plugin version 3\n"),
          ]),
        }),
      }),
    ],
  },
});
