import { serveProviders } from "plugwire/manager";
import { providerHandshake } from "../../handshake.ts";

await serveProviders({
  handshake: providerHandshake,
  manifest: { id: "example.echo", version: "1.0.0", author: "plugwire examples" },
  providers: {
    echo: {
      description: "Returns its input unchanged",
      inputSchema: { type: "object" },
      execute: (input) => input,
    },
  },
});
