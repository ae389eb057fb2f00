// The plugin side of the MuxBroker example: AddVia calls back into the host, ServeAdder serves
// the host an Adder. go-plugin's netrpc-host runs it:
//   $REPO/.cache/interop-go/netrpc-host -scenario callback -cmd $REPO/examples/netrpc/node \
//     -- $REPO/examples/netrpc/bidirectional/plugin.ts
import { netrpcPlugin, serve } from "plugwire/plugin";
import { Adder, Calculator, handshake, pluginName } from "./calculator.ts";

await serve({
  handshake,
  plugins: {
    [pluginName]: netrpcPlugin(Calculator, {
      // Every handler's context carries the connection's MuxBroker.
      async AddVia({ ID, A, B }, { broker }) {
        const adder = await broker.client(ID, Adder);
        return adder.Add({ A, B });
      },
      async ServeAdder(_, { broker }) {
        const served = await broker.serve(Adder, { Add: ({ A, B }) => A + B });
        return served.id;
      },
    }),
  },
});
