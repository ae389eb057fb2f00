// A plugin that crashes when asked to (provider "crash"), for the Iglu-style supervision example.
import { serveProviders } from "plugwire/manager";
import { providerHandshake } from "../providers/handshake.ts";

await serveProviders({
  handshake: providerHandshake,
  manifest: {
    id: process.env.PLUGIN_ID ?? "example.flaky",
    version: "0.1.0",
    author: "plugwire examples",
  },
  providers: {
    pid: { description: "Its process id", execute: () => ({ pid: process.pid }) },
    crash: {
      description: "Dies mid-call, like a plugin with a bug",
      execute: () => process.exit(70),
    },
  },
});
