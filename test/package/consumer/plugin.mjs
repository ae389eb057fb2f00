// A plugin in plain JavaScript on the installed package: go-plugin's KV example service.
import { implement, PluginError, serve } from "plugwire/plugin";
import { KV } from "./kv/gen/kv_pb.js";

const store = new Map();
await serve({
  handshake: { magicCookieKey: "BASIC_PLUGIN", magicCookieValue: "hello", protocolVersion: 1 },
  services: [
    implement(KV, {
      async put({ key, value }) {
        store.set(key, value);
        return {};
      },
      async get({ key }) {
        const value = store.get(key);
        if (value === undefined) throw new PluginError("NOT_FOUND", `no value for key ${key}`);
        return { value };
      },
    }),
  ],
});
