import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as proto3 from "../../../test/fixtures/gen/encoding_pb.js";
import { EchoMessageSchema } from "../../../test/fixtures/gen/fixture_pb.js";
import { filled, random, schemas } from "../../../test/support/proto-samples.ts";
import { decodeProto, decodesItself } from "./proto-decode.ts";

/** decodeProto gives what fromBinary gives for `bytes`: the same message, or the same error. */
function sameAsFromBinary(schema: DescMessage, bytes: Uint8Array): void {
  let expected: unknown;
  try {
    expected = fromBinary(schema, bytes);
  } catch (error) {
    assert.throws(() => decodeProto(schema, bytes), { message: (error as Error).message });
    return;
  }
  assert.deepStrictEqual(decodeProto(schema, bytes), expected, schema.typeName);
}

/** Encodings of `count` random messages of `schema` (fewer: some are not valid for it). */
function samples(schema: DescMessage, count: number, seed: number): Uint8Array[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    try {
      return toBinary(schema, filled(schema, next, 3) as never);
    } catch {
      return undefined; // a value the schema's special representation does not take
    }
  }).filter((bytes) => bytes !== undefined);
}

describe("decodeProto: protobuf-es's messages without a reader per message", () => {
  it("reads plain proto3 schemas itself and leaves the rest to fromBinary", () => {
    assert.ok(decodesItself(EchoMessageSchema));
    const own = schemas.filter(decodesItself).map((schema) => schema.typeName);
    assert.ok(own.length >= 3, `only ${own.join(", ")}`);
    for (const schema of [proto3.MapsSchema, proto3.ChoiceSchema, proto3.ListsSchema])
      assert.ok(decodesItself(schema), schema.typeName);
    assert.ok(decodesItself(proto3.TreeSchema), "a Timestamp is a plain message");
    assert.ok(!decodesItself(proto3.WellKnownSchema), "wrappers and Struct go to fromBinary");
    for (const schema of schemas.filter(decodesItself)) assert.equal(schema.file.edition, 999);
  });

  it("decodes 300 messages per schema with every kind of field set as fromBinary does", () => {
    for (const schema of schemas)
      for (const bytes of samples(schema, 300, schema.typeName.length))
        sameAsFromBinary(schema, bytes);
  });

  it("decodes empty messages, and bytes as views of the input", () => {
    for (const schema of schemas) sameAsFromBinary(schema, new Uint8Array(0));
    const bytes = toBinary(
      EchoMessageSchema,
      create(EchoMessageSchema, { payload: new Uint8Array([1, 2, 3]) }),
    );
    const message = decodeProto(EchoMessageSchema, bytes) as { payload: Uint8Array };
    assert.equal(message.payload.buffer, bytes.buffer, "a view, as fromBinary's");
  });

  it("agrees with fromBinary on every truncation and on corrupted bytes", () => {
    const next = random(7);
    for (const schema of schemas.filter(decodesItself)) {
      for (const bytes of samples(schema, 20, 3)) {
        for (let end = 0; end < Math.min(bytes.length, 200); end++)
          sameAsFromBinary(schema, bytes.subarray(0, end));
        for (let i = 0; i < 20 && bytes.length > 0; i++) {
          const corrupt = Uint8Array.from(bytes);
          corrupt[Math.floor(next() * corrupt.length)] = Math.floor(next() * 256);
          sameAsFromBinary(schema, corrupt);
        }
      }
    }
  });

  it('reads a map key "__proto__" as an own property, as fromBinary does', () => {
    const message = create(proto3.MapsSchema);
    message.stringString = JSON.parse('{"__proto__": "own", "other": "x"}');
    const bytes = toBinary(proto3.MapsSchema, message);
    sameAsFromBinary(proto3.MapsSchema, bytes);
    const decoded = decodeProto(proto3.MapsSchema, bytes) as typeof message;
    assert.deepEqual(Object.keys(decoded.stringString), ["__proto__", "other"]);
    assert.equal(Object.getPrototypeOf(decoded.stringString), Object.prototype);
  });

  it("keeps unknown fields and merges a message field sent twice, as fromBinary does", () => {
    const unknown = Uint8Array.from([0xf8, 0xff, 0x03, 0x05]); // field 8191, varint 5
    const echo = toBinary(
      EchoMessageSchema,
      create(EchoMessageSchema, { payload: Uint8Array.of(9) }),
    );
    sameAsFromBinary(EchoMessageSchema, Buffer.concat([echo, unknown]));
    for (const schema of schemas.filter(decodesItself)) {
      for (const bytes of samples(schema, 20, 11))
        sameAsFromBinary(schema, Buffer.concat([bytes, bytes]));
    }
  });
});
