// go-plugin's examples/basic greeter in TypeScript: what its Go host runs as ./plugin/greeter.
// Logs go out as hclog JSON on stderr, which the Go host mirrors into its own log.
//   mkdir plugin && printf '#!/bin/sh\nexec %s %s\n' "$REPO/examples/netrpc/node" \
//     "$REPO/examples/netrpc/greeter/plugin.ts" > plugin/greeter && chmod +x plugin/greeter
//   $REPO/.cache/interop-go/basic-example-host
import { createPluginLogger, netrpcPlugin, serve } from "plugwire/plugin";
import { Greeter, handshake } from "./greeter.ts";

const logger = createPluginLogger();
logger.debug("message from plugin", { foo: "bar" });

await serve({
  handshake,
  plugins: {
    greeter: netrpcPlugin(Greeter, {
      Greet() {
        logger.debug("message from GreeterHello.Greet");
        return "Hello!";
      },
    }),
  },
});
