import { serveProviders } from "plugwire/manager";
import { providerHandshake } from "../../handshake.ts";

const textInput = {
  type: "object",
  required: ["text"],
  properties: { text: { type: "string" } },
};

await serveProviders({
  handshake: providerHandshake,
  manifest: { id: "example.text", version: "1.1.0", author: "plugwire examples" },
  providers: {
    upper: {
      description: "Upper-cases text",
      inputSchema: textInput,
      execute: ({ text }: { text: string }) => ({ text: text.toUpperCase() }),
    },
    slug: {
      description: "Turns text into a URL slug",
      inputSchema: textInput,
      execute: ({ text }: { text: string }) => ({
        slug: text
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/^-|-$/g, ""),
      }),
    },
  },
});
