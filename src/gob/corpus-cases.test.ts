// The corpus cases of interop/go/cmd/gob-corpus (cases.go, types.go), declared with plugwire's
// schema: for each case, the values in stream order, each with its Go type and its JS value as
// the typed decoder gives it back (a pointer to a zero value is null: gob leaves both out).
// Imported by corpus.test.ts and the fuzz test; it holds no tests itself.

import { GoTime } from "./time.ts";
import type { GoType } from "./types.ts";
import { go } from "./types.ts";

export interface CorpusValue {
  readonly type: GoType;
  /** The value as the typed decoder returns it. */
  readonly value: unknown;
  /** What to encode, when it differs (a nil map is null; it decodes as an empty Map). */
  readonly input?: unknown;
}

export interface CorpusCase {
  readonly name: string;
  readonly values: readonly CorpusValue[];
}

const v = <T>(type: GoType<T>, value: T, input?: unknown): CorpusValue =>
  input === undefined ? { type, value } : { type, value, input };

export const AllKinds = go.struct("main.AllKinds", {
  B: go.bool,
  I: go.int,
  I8: go.int8,
  I16: go.int16,
  I32: go.int32,
  I64: go.int64,
  U: go.uint,
  U8: go.uint8,
  U16: go.uint16,
  U32: go.uint32,
  U64: go.uint64,
  Uptr: go.uintptr,
  F32: go.float32,
  F64: go.float64,
  C64: go.complex64,
  C128: go.complex128,
  S: go.string,
  Bs: go.bytes,
});
export const Inner = go.struct("main.Inner", { A: go.int, B: go.slice(go.string) });
const Outer = go.struct("main.Outer", {
  Name: go.string,
  Inner,
  Ptr: go.ptr(Inner),
  Items: go.slice(Inner),
});
const Base = go.struct("main.Base", { ID: go.int, Note: go.string });
const Derived = go.struct("main.Derived", { Base, Extra: go.string });
const Hidden = go.struct("main.Hidden", { Public: go.string });
const Pointers = go.struct("main.Pointers", {
  P: go.ptr(go.int),
  Q: go.ptr(go.string),
  R: go.ptr(Inner),
  S: go.ptr(Inner),
  PP: go.ptr(go.ptr(go.int)),
  Zero: go.ptr(go.int),
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
const Maps = go.struct("main.Maps", {
  Counts: go.map(go.string, go.int),
  Lists: go.map(go.int, go.slice(go.string)),
  Nested: go.map(go.string, go.map(go.string, go.bool)),
  Empty: go.map(go.string, go.int),
  Nil: go.map(go.string, go.int),
});
const Arrays = go.struct("main.Arrays", {
  Ints: go.array(go.int, 3),
  Bytes: go.array(go.uint8, 4),
  Pairs: go.array(Inner, 2),
  None: go.array(go.int, 0),
});
const Any = go.struct("main.Any", {
  Value: go.interface,
  List: go.slice(go.interface),
  Map: go.map(go.string, go.interface),
  None: go.interface,
});
const Wrapper = go.struct("main.Wrapper", { Label: go.string, Inner: go.interface });
const Times = go.struct("main.Times", {
  UTC: go.time,
  Fixed: go.time,
  Seconds: go.time,
  West: go.time,
  Zero: go.time,
  Ptr: go.ptr(go.time),
});
const Bigs = go.struct("main.Bigs", {
  A: go.ptr(go.bigInt),
  B: go.bigInt,
  C: go.ptr(go.bigInt),
  D: go.ptr(go.bigInt),
});
const Named = go.struct("main.Named", {
  Temp: go.named("main.Celsius", go.float64),
  Tags: go.named("main.Tags", go.slice(go.string)),
  Reg: go.named("main.Registry", go.map(go.string, go.named("main.Tags", go.slice(go.string)))),
});
const Point = go.opaque("main.Point", "binary");
const Shape = go.struct("main.Shape", { Name: go.string, Origin: Point, Path: go.slice(Point) });
export const Manifest = go.struct("main.Manifest", {
  Name: go.string,
  Version: go.string,
  Tags: go.slice(go.string),
  Meta: go.map(go.string, go.int),
});
export const Request = go.struct("main.Request", { ServiceMethod: go.string, Seq: go.uint64 });
const Response = go.struct("main.Response", {
  ServiceMethod: go.string,
  Seq: go.uint64,
  Error: go.string,
});
const Big = go.struct("main.Big", { Text: go.string, Items: go.slice(go.int64), Blob: go.bytes });

const instantSeconds = Date.UTC(2024, 1, 29, 13, 14, 15) / 1000;
const at = (zone?: number) => new GoTime(instantSeconds, 123456789, zone);
const point = (x: number, y: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, x);
  new DataView(b.buffer).setInt32(4, y);
  return b;
};
const inner = (A: number, B: string[] = []) => ({ A, B });

function big(): CorpusValue {
  const items = Array.from({ length: 1000 }, (_, i) => BigInt(i * i - 5000));
  const blob = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7) & 0xff);
  return v(Big, { Text: "gob ".repeat(5000), Items: items, Blob: blob });
}

export const corpusCases: readonly CorpusCase[] = [
  { name: "bool", values: [v(go.bool, true), v(go.bool, false)] },
  {
    name: "ints",
    values: [
      v(go.int, -1),
      v(go.int8, -128),
      v(go.int16, 32767),
      v(go.int32, -(2 ** 31)),
      v(go.int64, -(2n ** 63n)),
      v(go.int64, 2n ** 63n - 1n),
      v(go.int, 0),
      v(go.int, 2 ** 40),
    ],
  },
  {
    name: "uints",
    values: [
      v(go.uint, 0),
      v(go.uint8, 255),
      v(go.uint16, 65535),
      v(go.uint32, 2 ** 32 - 1),
      v(go.uint64, 2n ** 64n - 1n),
      v(go.uintptr, 12345n),
      v(go.uint64, 2n ** 53n),
    ],
  },
  {
    name: "floats",
    values: [
      v(go.float32, 1.5),
      v(go.float64, Math.PI),
      v(go.float64, Number.POSITIVE_INFINITY),
      v(go.float64, Number.NEGATIVE_INFINITY),
      v(go.float64, -0),
      v(go.float64, 1e300),
      v(go.float32, 3.4028234663852886e38),
      v(go.float64, 5e-324),
      v(go.float64, 2),
      v(go.float64, 0),
    ],
  },
  {
    name: "complex",
    values: [
      v(go.complex64, { real: 1, imag: 2 }),
      v(go.complex128, { real: -1.5, imag: -0.25 }),
      v(go.complex128, { real: 0, imag: 0 }),
    ],
  },
  {
    name: "strings",
    values: [
      v(go.string, ""),
      v(go.string, "hello"),
      v(go.string, "héllo wörld ✓ 🎉"),
      v(go.string, "x".repeat(300)),
    ],
  },
  {
    name: "bytes",
    values: [v(go.bytes, new Uint8Array(0)), v(go.bytes, Uint8Array.of(0, 1, 2, 255))],
  },
  {
    name: "all-kinds",
    values: [
      v(AllKinds, {
        B: true,
        I: -42,
        I8: -128,
        I16: 32767,
        I32: -(2 ** 31),
        I64: -(2n ** 63n),
        U: 42,
        U8: 255,
        U16: 65535,
        U32: 2 ** 32 - 1,
        U64: 2n ** 64n - 1n,
        Uptr: 0xdeadbeefn,
        F32: 1.5,
        F64: Math.PI,
        C64: { real: 1, imag: -2 },
        C128: { real: -1.5, imag: 0.25 },
        S: "héllo, wörld ✓",
        Bs: Uint8Array.of(0, 1, 2, 254, 255),
      }),
    ],
  },
  {
    name: "zero-struct",
    values: [
      v(AllKinds, {
        B: false,
        I: 0,
        I8: 0,
        I16: 0,
        I32: 0,
        I64: 0n,
        U: 0,
        U8: 0,
        U16: 0,
        U32: 0,
        U64: 0n,
        Uptr: 0n,
        F32: 0,
        F64: 0,
        C64: { real: 0, imag: 0 },
        C128: { real: 0, imag: 0 },
        S: "",
        Bs: new Uint8Array(0),
      }),
    ],
  },
  {
    name: "nested",
    values: [
      v(Outer, {
        Name: "o",
        Inner: inner(1, ["x", "y"]),
        Ptr: inner(2),
        Items: [inner(3), inner(0), inner(0, ["z"])],
      }),
    ],
  },
  { name: "embedded", values: [v(Derived, { Base: { ID: 7, Note: "base" }, Extra: "more" })] },
  { name: "unexported", values: [v(Hidden, { Public: "seen" })] },
  {
    name: "pointers",
    values: [v(Pointers, { P: 5, Q: null, R: null, S: inner(8), PP: 9, Zero: null })],
  },
  {
    name: "recursive",
    values: [
      v(Node, {
        Value: 1,
        Children: [
          { Value: 2, Children: [], Next: null },
          { Value: 3, Children: [{ Value: 4, Children: [], Next: null }], Next: null },
        ],
        Next: { Value: 5, Children: [], Next: { Value: 6, Children: [], Next: null } },
      }),
    ],
  },
  {
    name: "map-one",
    values: [
      v(
        Maps,
        {
          Counts: new Map([["a", 1]]),
          Lists: new Map([[-3, ["p", "q"]]]),
          Nested: new Map([["k", new Map([["t", true]])]]),
          Empty: new Map(),
          Nil: new Map(),
        },
        {
          Counts: new Map([["a", 1]]),
          Lists: new Map([[-3, ["p", "q"]]]),
          Nested: new Map([["k", new Map([["t", true]])]]),
          Empty: new Map(),
          Nil: null,
        },
      ),
    ],
  },
  {
    name: "map-many",
    values: [
      v(
        go.map(go.string, go.int),
        new Map([
          ["one", 1],
          ["two", 2],
          ["three", 3],
        ]),
      ),
      v(
        go.map(go.int, Inner),
        new Map([
          [1, inner(1)],
          [2, inner(0, ["b"])],
        ]),
      ),
    ],
  },
  {
    name: "arrays",
    values: [
      v(Arrays, {
        Ints: [1, 0, 3],
        Bytes: Uint8Array.of(1, 2, 3, 200),
        Pairs: [inner(1), inner(0)],
        None: [],
      }),
      v(go.array(go.string, 2), ["a", "b"]),
    ],
  },
  {
    name: "interfaces",
    values: [
      v(Any, {
        Value: { name: "main.Inner", value: inner(1, ["i"]) },
        List: [
          { name: "int", value: 1 },
          { name: "string", value: "two" },
          null,
          { name: "float64", value: 3.5 },
          { name: "[]uint8", value: Uint8Array.of(4) },
          { name: "*main.Base", value: { ID: 5, Note: "" } },
        ],
        Map: new Map([
          [
            "k",
            {
              name: "[]interface {}",
              value: [
                { name: "bool", value: true },
                { name: "uint8", value: 7 },
              ],
            },
          ],
        ]),
        None: null,
      }),
    ],
  },
  {
    name: "nested-interfaces",
    values: [
      v(Wrapper, {
        Label: "outer",
        Inner: {
          name: "main.Wrapper",
          value: { Label: "middle", Inner: { name: "main.Inner", value: inner(3) } },
        },
      }),
      v(Wrapper, {
        Label: "again",
        Inner: {
          name: "main.Wrapper",
          value: { Label: "known", Inner: { name: "main.Inner", value: inner(4) } },
        },
      }),
    ],
  },
  {
    name: "top-interface",
    values: [
      v(go.interface, { name: "main.Inner", value: inner(9) }),
      v(go.interface, { name: "string", value: "str" }),
      v(go.interface, null),
    ],
  },
  {
    name: "times",
    values: [
      v(Times, {
        UTC: at(),
        Fixed: at(5 * 3600 + 30 * 60),
        Seconds: at(3600 + 30),
        West: at(-(3 * 3600 + 30 * 60)),
        Zero: GoTime.zero,
        Ptr: new GoTime(Date.UTC(1969, 6, 20, 20, 17, 40) / 1000),
      }),
      v(go.time, at()),
      v(go.time, GoTime.zero),
    ],
  },
  {
    name: "big-int",
    values: [v(Bigs, { A: 1234567890123n, B: -77n, C: null, D: -123456789012345678901234567890n })],
  },
  {
    name: "named",
    values: [v(Named, { Temp: 21.5, Tags: ["a", "b"], Reg: new Map([["r", ["x"]]]) })],
  },
  {
    name: "binary-marshaler",
    values: [v(Shape, { Name: "tri", Origin: point(1, -2), Path: [point(0, 0), point(3, 4)] })],
  },
  {
    name: "manifest",
    values: [
      v(Manifest, {
        Name: "kv",
        Version: "1.2.3",
        Tags: ["store"],
        Meta: new Map([["shards", 4]]),
      }),
    ],
  },
  {
    name: "stream",
    values: [
      v(Request, { ServiceMethod: "Plugin.Put", Seq: 0n }),
      v(Inner, inner(1)),
      v(Request, { ServiceMethod: "Plugin.Get", Seq: 1n }),
      v(go.string, "reply"),
      v(Response, { ServiceMethod: "Plugin.Put", Seq: 0n, Error: "" }),
      v(Response, { ServiceMethod: "Plugin.Get", Seq: 1n, Error: "not found" }),
      v(Inner, inner(2)),
    ],
  },
  {
    name: "top-composites",
    values: [
      v(go.slice(go.int), [1, 2, 3]),
      v(go.slice(go.string), ["a"]),
      v(go.slice(Inner), [inner(1)]),
      v(go.map(go.string, go.string), new Map([["k", "v"]])),
      v(go.slice(go.slice(go.int)), [[1], [], [2, 3]]),
    ],
  },
  { name: "large", values: [big()] },
];

/** The concrete types the corpus's interfaces carry (its gob.Register calls). */
export const corpusRegistrations: ReadonlyArray<readonly [string, GoType]> = [
  ["main.Inner", Inner],
  ["main.Wrapper", Wrapper],
  ["*main.Base", go.ptr(Base)],
];
