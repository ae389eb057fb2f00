// Our logic around the wire format: checks before encoding, the streaming decoder's limits and
// errors, schema compatibility as Go's decoder has it, GoTime. (Wire compatibility with Go
// itself is corpus.test.ts.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../errors/plugin-error.ts";
import { GobDecoder } from "./decoder.ts";
import { GobEncoder } from "./encoder.ts";
import { GoTime, marshalTime, unmarshalTime } from "./time.ts";
import { GobTypeRegistry } from "./type-registry.ts";
import type { GoType, GoValue } from "./types.ts";
import { go } from "./types.ts";
import { zeroValue } from "./zero.ts";

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): PluginError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PluginError, `expected a PluginError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

function roundTrip<T>(type: GoType<T>, value: T): unknown {
  const decoder = new GobDecoder();
  decoder.push(new GobEncoder().encode(type, value));
  return decoder.next(type)?.value;
}

const Manifest = go.struct("main.Manifest", {
  Name: go.string,
  Version: go.string,
  Tags: go.slice(go.string),
  Meta: go.map(go.string, go.int),
});

describe("gob schema", () => {
  it("infers the JS type of a declaration", () => {
    type M = GoValue<typeof Manifest>;
    const m: M = { Name: "kv", Version: "1", Tags: ["a"], Meta: new Map([["n", 1]]) };
    // @ts-expect-error Tags is string[]
    const bad: M = { Name: "kv", Version: "1", Tags: [1], Meta: new Map() };
    const bytes: GoValue<ReturnType<typeof go.slice<typeof go.uint8>>> = new Uint8Array(1);
    const big: GoValue<typeof go.uint64> = 1n;
    assert.ok(m && bad && bytes && big);
  });

  it("declares a slice of any uint8 kind as []byte, as Go sends it", () => {
    assert.equal(go.slice(go.named("main.B", go.uint8)), go.bytes);
    assert.deepEqual(roundTrip(go.slice(go.uint8), Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
  });

  it("refuses unexported field names", () => {
    throwsCode(
      () => go.struct("main.T", { name: go.string }),
      "GOB_TYPE",
      /main\.T\.name .*exported/,
    );
  });

  it("gives Go's zero values", () => {
    assert.deepEqual(zeroValue(Manifest), { Name: "", Version: "", Tags: [], Meta: new Map() });
    assert.deepEqual(zeroValue(go.array(go.uint8, 2)), new Uint8Array(2));
    assert.equal(zeroValue(go.ptr(go.int)), null);
    assert.equal(zeroValue(go.time), GoTime.zero);
  });
});

describe("GobEncoder", () => {
  it("names the field path of a value that does not fit", () => {
    const enc = new GobEncoder();
    const value = { Name: "kv", Version: "1", Tags: ["a", 7], Meta: new Map() };
    throwsCode(
      () => enc.encode(Manifest, value as never),
      "GOB_TYPE",
      /Manifest\.Tags\[1\] expected a string, got number 7/,
    );
    throwsCode(
      () => enc.encode(Manifest, { Nme: "x" } as never),
      "GOB_TYPE",
      /Manifest\.Nme is not a field/,
    );
    throwsCode(() => enc.encode(go.int8, 128), "GOB_TYPE", /128 does not fit Go's int8/);
    throwsCode(() => enc.encode(go.uint, -1), "GOB_TYPE", /does not fit Go's uint/);
    throwsCode(() => enc.encode(go.int, 1.5), "GOB_TYPE", /expected an integer/);
    throwsCode(() => enc.encode(go.float32, 1e39), "GOB_TYPE", /does not fit Go's float32/);
    throwsCode(() => enc.encode(go.string, "\ud800"), "GOB_TYPE", /lone surrogate/);
    throwsCode(
      () => enc.encode(go.slice(go.ptr(go.int)), [1, null]),
      "GOB_TYPE",
      /value\[1\] is a nil pointer/,
    );
    throwsCode(() => enc.encode(go.ptr(go.int), null), "GOB_TYPE", /nil pointer/);
    throwsCode(
      () => enc.encode(go.array(go.int, 2), [1]),
      "GOB_TYPE",
      /1 elements, the Go array 2/,
    );
    throwsCode(
      () => enc.encode(go.interface, { name: "main.Unknown", value: 1 }),
      "GOB_TYPE",
      /main\.Unknown, which is not registered/,
    );
  });

  it("leaves the stream usable after a refused value: its type definitions count as unsent", () => {
    const enc = new GobEncoder();
    const dec = new GobDecoder();
    throwsCode(() => enc.encode(Manifest, { Name: 5 } as never), "GOB_TYPE");
    dec.push(enc.encode(Manifest, { Name: "kv", Version: "", Tags: [], Meta: new Map() }));
    assert.equal(dec.next(Manifest)?.value.Name, "kv");
  });

  it("sends a type's definition once per stream", () => {
    const enc = new GobEncoder();
    const first = enc.encode(Manifest, zeroValue(Manifest));
    const second = enc.encode(Manifest, zeroValue(Manifest));
    assert.ok(first.length > 40);
    assert.equal(second.length, 6); // length, type id (2 bytes), Meta's delta and 0 count, struct end
  });

  it("takes interface types from the value or the registry, and plain objects for string maps", () => {
    const Foo = go.struct("main.Foo", { N: go.int });
    const registry = new GobTypeRegistry().register("main.Foo", Foo);
    const Box = go.struct("main.Box", { V: go.interface, M: go.map(go.string, go.int) });
    const bytes = new GobEncoder({ registry }).encode(Box, {
      V: { name: "main.Foo", value: { N: 3 } },
      M: { a: 1 } as never,
    });
    const dec = new GobDecoder({ registry });
    dec.push(bytes);
    assert.deepEqual(dec.next(Box)?.value, {
      V: { name: "main.Foo", value: { N: 3 } },
      M: new Map([["a", 1]]),
    });
  });

  it("turns a cyclic value into GOB_TYPE, not a crash", () => {
    const List: GoType = go.struct("main.List", () => ({ Next: go.ptr(List) }));
    const a: { Next: unknown } = { Next: null };
    a.Next = a;
    throwsCode(() => new GobEncoder().encode(List, a), "GOB_TYPE", /nests too deeply/);
  });
});

describe("GobDecoder", () => {
  const bytes = new GobEncoder().encode(Manifest, {
    Name: "kv",
    Version: "2",
    Tags: ["x"],
    Meta: new Map([["a", 1]]),
  });

  it("returns undefined until a value's bytes are all pushed, in any split", () => {
    for (let cut = 0; cut < bytes.length; cut++) {
      const dec = new GobDecoder();
      dec.push(bytes.subarray(0, cut));
      assert.equal(dec.next(Manifest), undefined);
      dec.push(bytes.subarray(cut));
      assert.equal(dec.next(Manifest)?.value.Version, "2");
      assert.equal(dec.bufferedBytes, 0);
    }
  });

  it("refuses a length over maxMessageBytes as soon as it is read", () => {
    const dec = new GobDecoder({ maxMessageBytes: 1024 });
    dec.push(Uint8Array.of(0xfc, 0x40, 0, 0, 0)); // a message of 1 GiB, 5 bytes pushed
    const error = throwsCode(() => dec.next(), "GOB_INVALID", /over the limit of 1024/);
    assert.equal(error.details.length, String(2 ** 30));
    throwsCode(() => dec.next(), "GOB_INVALID", /over the limit/); // and stays failed
    throwsCode(() => dec.push(Uint8Array.of(1)), "GOB_INVALID");
  });

  it("reports an unknown type id as a malformed stream", () => {
    const dec = new GobDecoder();
    dec.push(Uint8Array.of(3, 0xff, 0x82, 0)); // a value of type 65, never defined
    throwsCode(() => dec.next(), "GOB_INVALID", /unknown type id 65/);
  });

  it("refuses definitions that break gob's rules", () => {
    const def = [0x7f, 0x02, 0x01, 0x00, 0x01, 0x0c, 0x00, 0x00]; // id 64: SliceT of string
    const twice = new GobDecoder();
    twice.push(Uint8Array.from([def.length, ...def, def.length, ...def]));
    throwsCode(() => twice.next(), "GOB_INVALID", /type id 64 is defined twice/);
    const extra = new GobDecoder();
    extra.push(Uint8Array.from([def.length + 1, ...def, 0x05]));
    throwsCode(() => extra.next(), "GOB_INVALID", /extra bytes after a type definition/);
    const reserved = new GobDecoder();
    reserved.push(Uint8Array.from([def.length, 0x1f, ...def.slice(1)])); // id 16
    throwsCode(() => reserved.next(), "GOB_INVALID", /reserved type id 16/);
  });

  it("bounds nesting", () => {
    const Deep: GoType = go.struct("main.Deep", () => ({ D: go.ptr(Deep) }));
    let value: unknown = null;
    for (let i = 0; i < 50; i++) value = { D: value };
    const dec = new GobDecoder({ maxDepth: 20 });
    dec.push(new GobEncoder().encode(Deep, value));
    throwsCode(() => dec.next(), "GOB_INVALID", /deeper than 20/);
  });

  it("matches struct fields by name: missing ones are zero, extra ones skipped", () => {
    const Old = go.struct("main.Manifest", { Version: go.string, Extra: go.bool, Name: go.string });
    const dec = new GobDecoder();
    dec.push(bytes);
    assert.deepEqual(dec.next(Old)?.value, { Version: "2", Extra: false, Name: "kv" });
  });

  it("is GOB_TYPE for a misfit, and goes on with the next value", () => {
    const enc = new GobEncoder();
    const dec = new GobDecoder();
    dec.push(enc.encode(go.int, 300));
    dec.push(enc.encode(Manifest, zeroValue(Manifest)));
    dec.push(enc.encode(Manifest, { ...zeroValue(Manifest), Tags: ["t"] }));
    dec.push(enc.encode(go.string, "after"));
    throwsCode(() => dec.next(go.int8), "GOB_TYPE", /300 is out of range for int8/);
    throwsCode(
      () => dec.next(go.string),
      "GOB_TYPE",
      /declared string, but the stream sends main\.Manifest|Manifest/,
    );
    const Wrong = go.struct("main.Manifest", { Tags: go.slice(go.int) });
    throwsCode(() => dec.next(Wrong), "GOB_TYPE", /Manifest\.Tags is declared \[\]int/);
    assert.equal(dec.next(go.string)?.value, "after");
  });

  it("is GOB_TYPE when no field matches (Go's 'no fields matched')", () => {
    const dec = new GobDecoder();
    dec.push(bytes);
    throwsCode(
      () => dec.next(go.struct("main.Other", { Zzz: go.int })),
      "GOB_TYPE",
      /shares no field/,
    );
  });

  it("decodes without a schema: ints as numbers when safe, bigints beyond", () => {
    const enc = new GobEncoder();
    const dec = new GobDecoder();
    dec.push(enc.encode(go.int64, 2n ** 60n));
    dec.push(enc.encode(go.int64, -5n));
    dec.push(enc.encode(go.uint64, 2n ** 64n - 1n));
    assert.equal(dec.next()?.value, 2n ** 60n);
    assert.equal(dec.next()?.value, -5);
    assert.equal(dec.next()?.value, 2n ** 64n - 1n);
  });

  it("decodes an unregistered interface value as gob describes it", () => {
    const Foo = go.struct("main.Foo", { N: go.int });
    const bytes = new GobEncoder().encode(go.interface, {
      name: "main.Foo",
      type: Foo,
      value: { N: 1 },
    });
    const dec = new GobDecoder();
    dec.push(bytes);
    assert.deepEqual(dec.next(go.interface)?.value, { name: "main.Foo", value: { N: 1 } });
  });

  it("refuses bad options", () => {
    throwsCode(() => new GobDecoder({ maxMessageBytes: 0 }), "CONFIG_INVALID");
    throwsCode(() => new GobDecoder({ maxDepth: Number.NaN }), "CONFIG_INVALID");
  });
});

describe("GoTime", () => {
  it("marshals as Go does: version 1, version 2 for offsets with seconds, -1 for UTC", () => {
    const utc = marshalTime(new GoTime(0), "t");
    assert.equal(Buffer.from(utc).toString("hex"), "010000000e7791f70000000000ffff");
    const v2 = marshalTime(new GoTime(0, 5, 3630), "t");
    assert.equal(v2.length, 16);
    assert.deepEqual(unmarshalTime(v2), new GoTime(0, 5, 3630));
    throwsCode(() => unmarshalTime(Uint8Array.of(3)), "GOB_TYPE", /version 3/);
  });

  it("converts to and from Date and prints RFC 3339", () => {
    const t = GoTime.fromDate(new Date("2024-02-29T13:14:15.123Z"), 19800);
    assert.equal(t.toDate().toISOString(), "2024-02-29T13:14:15.123Z");
    assert.equal(t.toString(), "2024-02-29T18:44:15.123+05:30");
    assert.equal(new GoTime(0, 1).toString(), "1970-01-01T00:00:00.000000001Z");
    assert.ok(GoTime.zero.isZero());
  });

  it("encodes a Date given for a time.Time", () => {
    const value = roundTrip(go.time, new Date(1000) as unknown as GoTime);
    assert.deepEqual(value, new GoTime(1));
  });
});
