// go-plugin's examples/basic interface (its `shared` package), declared once for TypeScript
// hosts and plugins. In Go it is `Greet() string`; on the wire, `Greet(args interface{}, resp
// *string) error`.
import { gob, netrpc } from "plugwire/rpc";

const { go } = gob;

export const Greeter = netrpc.define({ Greet: { args: go.interface, reply: go.string } });

/** examples/basic's handshake (also examples/grpc's and examples/negotiated's). */
export const handshake = {
  magicCookieKey: "BASIC_PLUGIN",
  magicCookieValue: "hello",
  protocolVersion: 1,
};
