// An Iglu plugin in TypeScript (the post's AmazingPlugin): serves GetManifest over go-plugin's
// net/rpc protocol, so the post's Go host loads it beside Go plugins. --id and --name set its
// manifest, as iglu-plugin's -id and -name do.
//   node examples/netrpc/iglu/plugin.ts --id frosty --name "Frosty Plugin"   (run by a host)
import { parseArgs } from "node:util";
import { netrpcPlugin, serve } from "plugwire/plugin";
import { handshake, Iglu } from "./iglu.ts";

const { values } = parseArgs({
  options: {
    id: { type: "string", default: "frosty" },
    name: { type: "string", default: "Frosty Plugin" },
  },
});

const manifest = {
  Id: values.id,
  Name: values.name,
  Author: "Someone Frosty",
  Version: "v0.2.0",
  Description: "an Iglu plugin in TypeScript",
  Capabilities: ["manifest", "typescript"],
};

await serve({
  handshake,
  plugins: { iglu_plugin: netrpcPlugin(Iglu, { GetManifest: () => ({ Manifest: manifest }) }) },
});
