import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, protoInt64, ScalarType, toBinary } from "@bufbuild/protobuf";
import { DescriptorProtoSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as editions from "../../../test/fixtures/gen/encoding_editions_pb.js";
import * as proto3 from "../../../test/fixtures/gen/encoding_pb.js";
import * as proto2 from "../../../test/fixtures/gen/encoding2_pb.js";
import { EchoMessageSchema } from "../../../test/fixtures/gen/fixture_pb.js";
import { encodeProto, encodesItself } from "./proto-encode.ts";

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function scalar(type: ScalarType, next: () => number, longAsString = false): unknown {
  const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)]!;
  const int64 = (signed: boolean) => {
    const value = signed
      ? pick([0n, 1n, -1n, 300n, -(2n ** 63n), 2n ** 63n - 1n, 123456789012345n])
      : pick([0n, 1n, 300n, 2n ** 64n - 1n, 2n ** 32n]);
    return longAsString ? value.toString() : value;
  };
  switch (type) {
    case ScalarType.DOUBLE:
      return pick([0, -0, 1.5, -2.25e300, Number.NaN, Number.POSITIVE_INFINITY, 1e-310]);
    case ScalarType.FLOAT:
      return pick([0, 1.5, -3.25, Number.NaN, Number.NEGATIVE_INFINITY, 3.4e38]);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick([0, 1, -1, 127, 128, -129, 2 ** 31 - 1, -(2 ** 31)]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick([0, 1, 127, 128, 16384, 2 ** 32 - 1]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64(true);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64(false);
    case ScalarType.BOOL:
      return next() < 0.5;
    case ScalarType.STRING:
      return pick([
        "",
        "a",
        "héllo wörld",
        "😀 emoji",
        "x".repeat(200),
        "\ud800 lone",
        "é".repeat(70),
      ]);
    case ScalarType.BYTES:
      return new Uint8Array(pick([0, 1, 64, 200, 20_000])).map((_, i) => i * 7);
  }
}

function enumValue(
  field: DescField & { enum: { values: readonly { number: number }[] } },
  next: () => number,
) {
  const values = field.enum.values;
  return values[Math.floor(next() * values.length)]!.number;
}

/** A message of `schema` with every field set, nested messages to `depth`. */
function filled(schema: DescMessage, next: () => number, depth: number): Record<string, unknown> {
  const message = create(schema) as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    if (next() < 0.2) continue; // leave some unset
    const value = fieldValue(field, next, depth);
    if (value === undefined) continue;
    if (field.oneof !== undefined) {
      message[field.oneof.localName] = { case: field.localName, value };
    } else {
      message[field.localName] = value;
    }
  }
  return message;
}

function fieldValue(field: DescField, next: () => number, depth: number): unknown {
  const count = () => Math.floor(next() * 4);
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, next, field.longAsString);
    case "enum":
      return enumValue(field, next);
    case "message":
      return depth > 0 ? filled(field.message, next, depth - 1) : undefined;
    case "list":
      return Array.from({ length: count() }, () =>
        field.listKind === "scalar"
          ? scalar(field.scalar, next, field.longAsString)
          : field.listKind === "enum"
            ? enumValue(field, next)
            : depth > 0
              ? filled(field.message, next, depth - 1)
              : create(field.message),
      );
    case "map": {
      const record: Record<string, unknown> = {};
      for (let i = count(); i > 0; i--) {
        const key = String(scalar(field.mapKey, next));
        record[key] =
          field.mapKind === "scalar"
            ? scalar(field.scalar, next)
            : field.mapKind === "enum"
              ? enumValue(field, next)
              : depth > 0
                ? filled(field.message, next, depth - 1)
                : create(field.message);
      }
      return record;
    }
  }
}

const schemas = (
  [
    ...Object.values(proto3),
    ...Object.values(proto2),
    ...Object.values(editions),
    FileDescriptorProtoSchema,
    DescriptorProtoSchema,
    EchoMessageSchema,
  ] as { kind: string }[]
).filter((value): value is DescMessage => value.kind === "message");

function sameAsToBinary(schema: DescMessage, message: object): void {
  let expected: Uint8Array | Error;
  try {
    expected = toBinary(schema, message as never);
  } catch (error) {
    expected = error as Error;
  }
  if (expected instanceof Error) {
    assert.throws(() => encodeProto(schema, message), { message: expected.message });
    return;
  }
  assert.deepEqual(
    Buffer.from(encodeProto(schema, message)).toString("hex"),
    Buffer.from(expected).toString("hex"),
    schema.typeName,
  );
}

describe("encodeProto: protobuf-es's bytes without a writer per message", () => {
  it("encodes every plain schema itself, and leaves the special ones to toBinary", () => {
    const special = schemas.filter((schema) => !encodesItself(schema)).map((s) => s.typeName);
    assert.deepEqual(special.sort(), [
      "plugwire.test.editions.Delimited",
      "plugwire.test.encoding.WellKnown",
      "plugwire.test.encoding2.WithGroup",
    ]);
  });

  it("encodes empty messages of every schema as toBinary does", () => {
    for (const schema of schemas) sameAsToBinary(schema, create(schema));
  });

  it("encodes 300 messages per schema with every kind of field set, byte for byte", () => {
    for (const [i, schema] of schemas.entries()) {
      const next = random(i + 1);
      for (let n = 0; n < 300; n++)
        sameAsToBinary(schema, create(schema, filled(schema, next, 3) as never));
    }
  });

  it("round-trips through fromBinary", () => {
    const next = random(99);
    const tree = create(proto3.TreeSchema, filled(proto3.TreeSchema, next, 4) as never);
    assert.deepEqual(
      fromBinary(proto3.TreeSchema, encodeProto(proto3.TreeSchema, tree)),
      fromBinary(proto3.TreeSchema, toBinary(proto3.TreeSchema, tree)),
    );
  });

  it("keeps proto2 defaults off the wire unless set, and writes unknown fields and extensions", () => {
    const defaults = create(proto2.DefaultsSchema);
    assert.equal(encodeProto(proto2.DefaultsSchema, defaults).length, 0);
    defaults.count = 7;
    sameAsToBinary(proto2.DefaultsSchema, defaults);
    const withUnknown = fromBinary(
      proto2.DefaultsSchema,
      Uint8Array.from([0xa0, 0x06, 0x2a, 0xaa, 0x06, 0x02, 0x68, 0x69, 0x08, 0x03]),
    );
    assert.ok((withUnknown.$unknown?.length ?? 0) >= 2);
    sameAsToBinary(proto2.DefaultsSchema, withUnknown);
  });

  it("fails as toBinary does: a missing required field, a wrong value, another message's type", () => {
    sameAsToBinary(proto2.RequiredSchema, create(proto2.RequiredSchema));
    sameAsToBinary(editions.StrictSchema, create(editions.StrictSchema));
    for (const [field, value] of [
      ["fInt32", 1.5],
      ["fInt32", 2 ** 40],
      ["fUint32", -1],
      ["fFloat", 1e39],
      ["fInt64", "not a number"],
      ["fInt32", "12"],
      ["fUint32", "7"],
    ] as const) {
      const message = create(proto3.ScalarsSchema) as unknown as Record<string, unknown>;
      message[field] = value;
      sameAsToBinary(proto3.ScalarsSchema, message);
    }
    const other = create(proto3.ChoiceSchema);
    const tree = create(proto3.TreeSchema);
    (tree as unknown as Record<string, unknown>).maps = other;
    assert.throws(() => encodeProto(proto3.TreeSchema, tree), /cannot use field/);
  });

  it("still encodes after a failed message (the shared buffer starts over)", () => {
    const bad = create(proto3.ScalarsSchema) as unknown as Record<string, unknown>;
    bad.fString = "half written";
    bad.fUint32 = -5;
    assert.throws(() => encodeProto(proto3.ScalarsSchema, bad));
    const good = create(proto3.ScalarsSchema, { fInt32: 3 });
    sameAsToBinary(proto3.ScalarsSchema, good);
  });

  it("returns bytes a later encoding does not overwrite", () => {
    const first = encodeProto(
      EchoMessageSchema,
      create(EchoMessageSchema, { payload: new Uint8Array(64).fill(1) }),
    );
    const copy = Buffer.from(first).toString("hex");
    encodeProto(
      EchoMessageSchema,
      create(EchoMessageSchema, { payload: new Uint8Array(64).fill(2) }),
    );
    assert.equal(Buffer.from(first).toString("hex"), copy);
  });

  it("leaves wrapper, Struct and group fields to toBinary", () => {
    const wellKnown = create(proto3.WellKnownSchema, {
      wrappedInt: 5,
      wrappedString: "s",
      struct: { a: 1, b: [true, null, "x"] },
    });
    sameAsToBinary(proto3.WellKnownSchema, wellKnown);
    sameAsToBinary(
      editions.DelimitedSchema,
      create(editions.DelimitedSchema, { item: { implicit: 3, packed: [1, 2] } }),
    );
    sameAsToBinary(proto2.WithGroupSchema, create(proto2.WithGroupSchema, { item: { value: 9 } }));
    assert.equal(protoInt64.supported, true);
  });
});
