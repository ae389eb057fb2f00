// What encoding one small message costs: protobuf-es's toBinary against plugwire's encoder
// (src/rpc/core/proto-encode.ts), and the typed-array allocations behind the difference.
//
//   node --conditions=plugwire-source bench/encode.ts [--n 2000000]
//
// Prints ns per operation; docs/performance.md, decision 18, records a run.
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { encodeProto } from "../src/rpc/core/proto-encode.ts";
import { TreeSchema } from "../test/fixtures/gen/encoding_pb.js";
import { EchoMessageSchema } from "../test/fixtures/gen/fixture_pb.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "2000000" } } });
const n = Number(values.n);

function nsPerOp(f: () => unknown): number {
  for (let i = 0; i < n / 10; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) * 1e6) / n;
}

const echo = create(EchoMessageSchema, { payload: new Uint8Array(64) });
const tree = create(TreeSchema, {
  name: "root",
  children: [{ name: "a" }, { name: "b", lists: { packedInt32: [1, 2, 3], strings: ["x", "y"] } }],
  maps: { stringString: { k: "v" }, int32Int64: { 7: 9n } },
  choice: { kind: { case: "text", value: "hello" } },
});
const echoBytes = toBinary(EchoMessageSchema, echo);
const slab = new Uint8Array(1 << 16);
const rows: [string, () => unknown][] = [
  ["toBinary, 64 B bytes field (66 B)", () => toBinary(EchoMessageSchema, echo)],
  ["encodeProto, same", () => encodeProto(EchoMessageSchema, echo)],
  ["toBinary, nested message with lists and maps", () => toBinary(TreeSchema, tree)],
  ["encodeProto, same", () => encodeProto(TreeSchema, tree)],
  ["fromBinary, 66 B", () => fromBinary(EchoMessageSchema, echoBytes)],
  ["new Uint8Array(64) (on V8's heap)", () => new Uint8Array(64)],
  ["new Uint8Array(128) (off-heap backing store)", () => new Uint8Array(128)],
  ["Uint8Array.prototype.slice, 66 B", () => slab.slice(0, 66)],
  ["new Uint8Array(slab, offset, 66) (a view)", () => new Uint8Array(slab.buffer, 128, 66)],
];
for (const [name, f] of rows) console.log(`${nsPerOp(f).toFixed(0).padStart(6)} ns  ${name}`);
