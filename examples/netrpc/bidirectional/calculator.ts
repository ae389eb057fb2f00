// Callbacks both ways through go-plugin's MuxBroker, declared once for TypeScript hosts and
// plugins. These are the broker methods of interop/go/internal/netrpctest's Tester, so the Go
// side of this example is interop/go's netrpc-host and netrpc-plugin (go-plugin v1.8.0).
import { gob, netrpc } from "plugwire/rpc";

const { go } = gob;

/** netrpctest's handshake and plugin name. */
export const handshake = {
  magicCookieKey: "NETRPC_TESTER",
  magicCookieValue: "tester",
  protocolVersion: 1,
};
export const pluginName = "tester";

/** What either side serves on a MuxBroker stream: `Add(AddArgs, *int) error`. */
export const Adder = netrpc.define({
  Add: { args: go.struct("netrpctest.AddArgs", { A: go.int, B: go.int }), reply: go.int },
});

/**
 * The plugin: `AddVia` dials the broker id the host passes and calls its Adder; `ServeAdder`
 * serves an Adder of the plugin's own under a fresh id, for the host to dial.
 */
export const Calculator = netrpc.define({
  AddVia: {
    args: go.struct("netrpctest.CallbackArgs", { ID: go.uint32, A: go.int, B: go.int }),
    reply: go.int,
  },
  ServeAdder: { args: go.struct("netrpctest.Empty", {}), reply: go.uint32 },
});
