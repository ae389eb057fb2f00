// The JSON user-provider driver served as a plugin process.
import { driverSettings, serveProviders } from "plugwire/manager";
import { jsonUserProvider } from "../json-driver.ts";

await serveProviders({
  handshake: { magicCookieKey: "USERS_PLUGIN", magicCookieValue: "users", protocolVersion: 1 },
  manifest: {
    id: "users-json-ts",
    name: "JSON user provider (TypeScript)",
    version: "1.0.0",
    author: "plugwire examples",
  },
  services: [jsonUserProvider(driverSettings(), process.cwd())],
});
