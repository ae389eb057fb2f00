// The CLI's Go type syntax and its JSON mapping for net/rpc calls (our logic: no plugin needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GoTime, go } from "../gob/index.ts";
import { UsageError } from "./context.ts";
import { goTypeName, parseGoType } from "./go-type-syntax.ts";
import { fromJson, inferGoType, toJson } from "./netrpc-json.ts";

describe("--args-type's Go type syntax", () => {
  it("reads basic kinds, composites and spelled-out structs, named as Go's reflect names them", () => {
    for (const [text, name] of [
      ["string", "string"],
      ["[]byte", "[]uint8"],
      ["[]int", "[]int"],
      ["[4]uint8", "[4]uint8"],
      ["map[string]interface{}", "map[string]interface {}"],
      ["map[int]any", "map[int]interface {}"],
      ["*float64", "*float64"],
      ["struct{}", "struct {}"],
      ["struct{ Key string; Value []byte }", "struct { Key string; Value []uint8 }"],
      ["struct{Street, City string}", "struct { Street string; City string }"],
      [
        "[]struct{A int64; B *struct{C time.Time}}",
        "[]struct { A int64; B *struct { C time.Time } }",
      ],
    ] as const)
      assert.equal(goTypeName(parseGoType(text)), name, text);
    assert.equal(parseGoType("[]byte"), go.bytes);
    assert.equal(parseGoType("big.Int"), go.bigInt);
  });

  it("names the mistake and where it is", () => {
    for (const [text, message] of [
      ["map[string", /expected "\]" at offset 10/],
      ["chan int", /unknown type "chan"/],
      ["struct{a int}", /is not an exported Go field/],
      ["[]int extra", /unexpected text at offset 6/],
      ["[x]int", /expected an array length at offset 1/],
    ] as const)
      assert.throws(
        () => parseGoType(text),
        (e: Error) => e instanceof UsageError && message.test(e.message),
      );
  });
});

describe("JSON to Go values", () => {
  it("reads the type off the JSON's shape", () => {
    for (const [json, name] of [
      [null, "interface {}"],
      [true, "bool"],
      [3, "int"],
      [2.5, "float64"],
      ["x", "string"],
      [["a", "b"], "[]string"],
      [[1, 2.5], "[]float64"],
      [[1, "a"], "[]interface {}"],
      [{ Key: "k", N: 1 }, "struct { Key string; N int }"],
      [{ key: "k" }, "map[string]string"],
      [{}, "map[string]interface {}"],
    ] as const)
      assert.equal(goTypeName(inferGoType(json)), name, JSON.stringify(json));
  });

  it("converts to the declared type, zero values for missing fields, @type for interfaces", () => {
    const type = parseGoType(
      "struct{Key string; Value []byte; N int64; When time.Time; Tags []string; Any interface{}}",
    );
    const value = fromJson(type, {
      Key: "k",
      Value: Buffer.from("hi").toString("base64"),
      N: "9007199254740993",
      When: "2026-01-02T03:04:05Z",
      Any: { "@type": "[]byte", value: "AQI=" },
    }) as Record<string, unknown>;
    assert.equal(value.Key, "k");
    assert.deepEqual(value.Value, new Uint8Array(Buffer.from("hi")));
    assert.equal(value.N, 9007199254740993n);
    assert.ok(value.When instanceof GoTime);
    assert.deepEqual(value.Tags, []);
    assert.deepEqual(value.Any, { name: "[]uint8", value: new Uint8Array([1, 2]), type: go.bytes });
    const map = fromJson(parseGoType("map[int]bool"), { "1": true }) as Map<number, boolean>;
    assert.deepEqual([...map], [[1, true]]);
  });

  it("refuses JSON that does not fit, naming the field", () => {
    const type = parseGoType("struct{A int; B []byte}");
    assert.throws(
      () => fromJson(type, { A: 1.5 }),
      /args\.A: expected an integer \(int\), got 1\.5/,
    );
    assert.throws(
      () => fromJson(type, { B: 7 }),
      /args\.B: expected base64 text \(\[\]byte\), got 7/,
    );
    assert.throws(
      () => fromJson(type, { C: 1 }),
      /args: struct \{ A int; B \[\]uint8 \} has no field "C"/,
    );
    assert.throws(() => fromJson(parseGoType("[2]int"), [1]), /args: expected an array of 2/);
  });

  it("prints replies decoded without a schema as JSON", () => {
    assert.deepEqual(
      toJson({
        Bytes: new Uint8Array([1, 2]),
        Big: 2n ** 60n,
        Small: 5n,
        Map: new Map([[1, "a"]]),
        Iface: { name: "int", value: 3 },
        Nil: null,
      }),
      {
        Bytes: "AQI=",
        Big: "1152921504606846976",
        Small: 5,
        Map: { "1": "a" },
        Iface: 3,
        Nil: null,
      },
    );
  });
});
