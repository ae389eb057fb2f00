import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, protoInt64, toBinary } from "@bufbuild/protobuf";
import * as editions from "../../../test/fixtures/gen/encoding_editions_pb.js";
import * as proto3 from "../../../test/fixtures/gen/encoding_pb.js";
import * as proto2 from "../../../test/fixtures/gen/encoding2_pb.js";
import { EchoMessageSchema } from "../../../test/fixtures/gen/fixture_pb.js";
import { filled, random, schemas } from "../../../test/support/proto-samples.ts";
import { encodeProto, encodesItself } from "./proto-encode.ts";

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
