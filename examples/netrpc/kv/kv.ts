// The net/rpc KV of go-plugin's examples/grpc (shared/rpc.go), declared once for TypeScript hosts
// and plugins: `Put(map[string]interface{}, *interface{})` with the key and value in the map, and
// `Get(string, *[]byte)`.
import { gob, netrpc } from "plugwire/rpc";

const { go } = gob;

export const KV = netrpc.define({
  Put: { args: go.map(go.string, go.interface), reply: go.interface },
  Get: { args: go.string, reply: go.bytes },
});

/** The map go-plugin's RPCClient sends to Put: interface values carrying their Go type names. */
export function putArgs(key: string, value: Uint8Array) {
  return new Map([
    ["key", { name: "string", value: key, type: go.string }],
    ["value", { name: "[]uint8", value, type: go.bytes }],
  ]);
}

/** Put's arguments, as a plugin reads them. */
export function putFields(args: ReadonlyMap<string, { readonly value: unknown } | null>) {
  const key = args.get("key")?.value;
  const value = args.get("value")?.value;
  if (typeof key !== "string" || !(value instanceof Uint8Array))
    throw new Error("Put needs a string key and a []byte value");
  return { key, value: Buffer.from(value).toString() };
}
