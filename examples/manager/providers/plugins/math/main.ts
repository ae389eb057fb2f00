import { serveProviders } from "plugwire/manager";
import { providerHandshake } from "../../handshake.ts";

await serveProviders({
  handshake: providerHandshake,
  manifest: { id: "example.math", version: "0.3.0", author: "plugwire examples" },
  providers: {
    sum: {
      description: "Adds a list of numbers",
      inputSchema: {
        type: "object",
        required: ["numbers"],
        properties: { numbers: { type: "array" } },
      },
      execute: ({ numbers }: { numbers: number[] }) => ({
        sum: numbers.reduce((a, b) => a + b, 0),
      }),
    },
  },
});
