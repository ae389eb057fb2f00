// Fuzzes the gob decoder (src/gob), which reads whatever a net/rpc peer sends. Inputs: Go's own
// streams (test/fuzz/corpus/gob, from interop/go/cmd/gob-corpus), hostile seeds built here, their
// mutations and random bytes, fed in random splits. Every outcome must be a value or a
// PluginError with a gob code, the same whatever the splits, in bounded time; and random values
// of a few schemas must encode and decode back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../src/errors/plugin-error.ts";
import type { GoType } from "../../src/gob/index.ts";
import { GobDecoder, GobEncoder, GobTypeRegistry, go } from "../../src/gob/index.ts";
import { fuzz, fuzzIterations, loadCorpus, mutate, Rng, randomSplits } from "./support.ts";

const Inner = go.struct("main.Inner", { A: go.int, B: go.slice(go.string) });
const AllKinds = go.struct("main.AllKinds", {
  B: go.bool,
  I: go.int,
  I8: go.int8,
  U64: go.uint64,
  F32: go.float32,
  C64: go.complex64,
  S: go.string,
  Bs: go.bytes,
});
interface NodeValue {
  Value: number;
  Children: NodeValue[];
  Next: NodeValue | null;
}
const Node: GoType<NodeValue> = go.struct("main.Node", () => ({
  Value: go.int,
  Children: go.slice(Node),
  Next: go.ptr(Node),
}));
const Wrapper = go.struct("main.Wrapper", { Label: go.string, Inner: go.interface });
const schemas: readonly GoType[] = [
  Inner,
  AllKinds,
  Node,
  Wrapper,
  go.string,
  go.int8,
  go.slice(go.interface),
  go.map(go.string, go.interface),
  go.time,
  go.array(go.uint8, 4),
];

const registry = new GobTypeRegistry()
  .register("main.Inner", Inner)
  .register("main.Wrapper", Wrapper);

/** A message: its length, then `body`. */
function message(...body: number[]): number[] {
  return [body.length, ...body];
}

/** Hostile streams: self-referential types, counts far beyond the input, deep nesting. */
function hostileSeeds(): Array<{ name: string; data: Buffer }> {
  // -64 (0x7f) defines id 64; ArrayT {CommonType{}, Elem: 64, Len: 1}: an array of itself.
  const selfArray = message(0x7f, 0x01, 0x01, 0x00, 0x01, 0xff, 0x80, 0x01, 0x02, 0x00, 0x00);
  const nested = [...selfArray, ...message(0xff, 0x80, 0x00, ...Array(200).fill(0x01))];
  // SliceT {CommonType{}, Elem: 64}: a slice of itself, then a count of 2^62.
  const selfSlice = message(0x7f, 0x02, 0x01, 0x00, 0x01, 0xff, 0x80, 0x00, 0x00);
  const huge = [...selfSlice, ...message(0xff, 0x80, 0x00, 0xf8, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x00)];
  // A slice of interfaces, each naming a type that never comes.
  const ifaces = message(0x10, 0x00, 0x05, 0x01, 0x41, 0x7f, 0x01, 0x00);
  return [
    { name: "self-array", data: Buffer.from(nested) },
    { name: "self-slice-huge-count", data: Buffer.from(huge) },
    { name: "interface-undefined-type", data: Buffer.from(ifaces) },
    {
      name: "length-too-big",
      data: Buffer.from([0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    },
  ];
}

const dictionary = [
  [0x00],
  [0x7f],
  [0xff, 0x80],
  [0xff, 0x81],
  [0x10],
  [0xfe, 0xf0, 0x3f],
  [0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xfc, 0x40, 0x00, 0x00, 0x00],
  [0x03, 0x01, 0x01, 0x01],
  [0x06, 0x6d, 0x61, 0x69, 0x6e, 0x2e, 0x54],
].map((b) => Buffer.from(b));

type Outcome = { value: unknown } | { code: string } | "more";

/** Decodes `chunks` to the end; each `next` alternates between no schema and `schema`. */
function outcomes(
  chunks: Buffer[],
  schema: GoType | undefined,
  maxMessageBytes: number,
): Outcome[] {
  const decoder = new GobDecoder({ maxMessageBytes, maxDepth: 200, registry });
  const out: Outcome[] = [];
  for (const chunk of chunks) {
    try {
      decoder.push(chunk);
    } catch (error) {
      out.push(classify(error));
      return out;
    }
    for (;;) {
      let got: { value: unknown } | undefined;
      try {
        got = decoder.next(out.length % 2 === 1 ? schema : undefined);
      } catch (error) {
        const outcome = classify(error);
        out.push(outcome);
        if ((outcome as { code: string }).code === "GOB_INVALID") return out;
        continue;
      }
      if (got === undefined) break;
      out.push(got);
    }
  }
  out.push("more");
  return out;
}

function classify(error: unknown): Outcome {
  if (!(error instanceof PluginError)) throw error;
  assert.ok(
    error.code === "GOB_INVALID" || error.code === "GOB_TYPE",
    `code ${error.code}: ${error.message}`,
  );
  return { code: error.code };
}

describe("fuzz: gob decoder", () => {
  const corpus = [...loadCorpus("gob"), ...hostileSeeds()];
  const others = corpus.map((c) => c.data);

  it("every input decodes to values or gob errors, the same in any split", async (t) => {
    const stats = await fuzz({
      target: "gob",
      corpus,
      iterations: fuzzIterations(3000),
      clock: "cpu",
      inputDeadlineMs: 1000,
      generate: (rng) =>
        rng.chance(0.1)
          ? rng.bytes(rng.int(64))
          : mutate(rng, rng.pick(others), dictionary, others, 1 << 16),
      check(input, rng) {
        const schema = rng.pick(schemas);
        const limit = rng.chance(0.5) ? 1 << 20 : 64;
        const whole = outcomes([input], schema, limit);
        const split = outcomes(randomSplits(rng, input, 12), schema, limit);
        assert.deepStrictEqual(split, whole);
      },
    });
    t.diagnostic(
      `${stats.inputs} inputs in ${stats.elapsedMs.toFixed(0)} ms, slowest ${stats.slowestMs.toFixed(1)} ms`,
    );
  });

  it("random values of several schemas encode and decode back", async (t) => {
    const stats = await fuzz({
      target: "gob-values",
      corpus: [],
      iterations: fuzzIterations(1000),
      generate: (rng) => Buffer.from(JSON.stringify({ seed: rng.int(2 ** 31) })),
      check(input) {
        const r = new Rng((JSON.parse(input.toString()) as { seed: number }).seed);
        const encoder = new GobEncoder({ registry });
        const values = Array.from({ length: 1 + r.int(4) }, () => {
          const type = r.pick([Inner, AllKinds, Node, Wrapper]);
          return { type, value: randomValue(r, type, 0) };
        });
        const bytes = Buffer.concat(values.map((v) => encoder.encode(v.type, v.value)));
        const decoder = new GobDecoder({ registry });
        const got: unknown[] = [];
        for (const chunk of randomSplits(r, bytes, 10)) {
          decoder.push(chunk);
          for (let next = decoder.next(values[got.length]?.type ?? go.int); next; ) {
            got.push(next.value);
            if (got.length === values.length) break;
            next = decoder.next(values[got.length]!.type);
          }
        }
        assert.deepStrictEqual(
          got,
          values.map((v) => v.value),
        );
      },
    });
    t.diagnostic(`${stats.inputs} value streams in ${stats.elapsedMs.toFixed(0)} ms`);
  });
});

/** A random value of `type`, in the form the typed decoder returns. */
function randomValue(r: Rng, type: GoType, depth: number): unknown {
  switch (type.kind) {
    case "bool":
      return r.chance(0.5);
    case "int":
      return r.chance(0.5) ? r.int(200) - 100 : Math.floor((r.next() - 0.5) * 2 ** 53);
    case "int8":
      return r.int(256) - 128;
    case "uint64":
      return BigInt(r.int(2 ** 32)) * BigInt(r.int(2 ** 32));
    case "float32":
      return Math.fround((r.next() - 0.5) * 1e6);
    case "complex64":
      return { real: Math.fround(r.next()), imag: Math.fround(-r.next()) };
    case "string":
      return r.chance(0.3)
        ? ""
        : String.fromCodePoint(...Array.from({ length: r.int(12) }, () => 32 + r.int(0x2000)));
    case "bytes":
      return new Uint8Array(r.bytes(r.int(20)));
    case "slice":
      return depth > 3
        ? []
        : Array.from({ length: r.int(4) }, () => randomValue(r, type.elem, depth + 1));
    case "ptr":
      return depth > 3 || r.chance(0.5) ? null : randomValue(r, type.elem, depth + 1);
    case "interface":
      return depth > 3 || r.chance(0.3)
        ? null
        : r.chance(0.5)
          ? { name: "main.Inner", value: randomValue(r, Inner, depth + 1) }
          : { name: "main.Wrapper", value: randomValue(r, Wrapper, depth + 1) };
    case "struct": {
      const out: Record<string, unknown> = {};
      for (const f of type.fields) out[f.name] = randomValue(r, f.type, depth + 1);
      return out;
    }
    default:
      throw new Error(`no generator for ${type.kind}`);
  }
}
