// Messages of every kind of schema with every kind of field set, for tests that compare
// plugwire's protobuf encoder and decoder with protobuf-es's own (src/rpc/core/proto-*.test.ts).
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { create, ScalarType } from "@bufbuild/protobuf";
import { DescriptorProtoSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as editions from "../fixtures/gen/encoding_editions_pb.js";
import * as proto3 from "../fixtures/gen/encoding_pb.js";
import * as proto2 from "../fixtures/gen/encoding2_pb.js";
import { EchoMessageSchema } from "../fixtures/gen/fixture_pb.js";

/** A deterministic stream of numbers in [0, 1). */
export function random(seed: number): () => number {
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
export function filled(
  schema: DescMessage,
  next: () => number,
  depth: number,
): Record<string, unknown> {
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

export const schemas = (
  [
    ...Object.values(proto3),
    ...Object.values(proto2),
    ...Object.values(editions),
    FileDescriptorProtoSchema,
    DescriptorProtoSchema,
    EchoMessageSchema,
  ] as { kind: string }[]
).filter((value): value is DescMessage => value.kind === "message");
