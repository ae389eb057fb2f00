import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { protoInt64, ScalarType, toBinary } from "@bufbuild/protobuf";
import { ProtoWriter } from "./proto-writer.ts";

/**
 * `toBinary(schema, message)`'s bytes, written through one reused `ProtoWriter` instead of a
 * new protobuf-es writer per message (proto-writer.ts says why). Each schema is compiled once
 * into a list of field writers that follow protobuf-es's own encoder (to-binary.js): fields in
 * number order, the same presence rules, packed lists, map entries, then unknown fields.
 *
 * Schemas using what protobuf-es represents specially — well-known wrapper and Struct types,
 * whose fields hold plain JSON or unboxed values, and group (delimited) encoding — are left to
 * `toBinary` itself.
 */
export function encodeProto(schema: DescMessage, message: object): Uint8Array {
  const compiled = compiledFor(schema);
  if (compiled === undefined) return toBinary(schema, message as never);
  try {
    compiled(writer, message as Message);
    return writer.take();
  } catch (error) {
    writer.reset();
    throw error;
  }
}

/** Whether messages of `schema` go through plugwire's encoder (not toBinary): for tests. */
export function encodesItself(schema: DescMessage): boolean {
  return compiledFor(schema) !== undefined;
}

type Message = Record<string, unknown> & { $typeName?: string; $unknown?: UnknownField[] };
interface UnknownField {
  readonly no: number;
  readonly wireType: number;
  readonly data: Uint8Array;
}
type WriteMessage = (writer: ProtoWriter, message: Message) => void;
type WriteValue = (writer: ProtoWriter, value: unknown) => void;

const writer = new ProtoWriter();
/** `null`: left to toBinary. */
const compiledBySchema = new WeakMap<DescMessage, WriteMessage | null>();

const implicitPresence = 2;
const legacyRequired = 3;
const wire = { varint: 0, bit64: 1, lengthDelimited: 2, bit32: 5 } as const;

/** protobuf-es represents these types' fields as plain values (reflect/unsafe.js, wkt). */
export const specialTypes = new Set(
  [
    "DoubleValue",
    "FloatValue",
    "Int64Value",
    "UInt64Value",
    "Int32Value",
    "UInt32Value",
    "BoolValue",
    "StringValue",
    "BytesValue",
    "Struct",
    "Value",
    "ListValue",
  ].map((name) => `google.protobuf.${name}`),
);

function compiledFor(schema: DescMessage): WriteMessage | undefined {
  const known = compiledBySchema.get(schema);
  if (known !== undefined) return known ?? undefined;
  if (!plain(schema, new Set())) {
    compiledBySchema.set(schema, null);
    return undefined;
  }
  return compile(schema);
}

/** Whether `schema` and every message it holds use no special representation. */
function plain(schema: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(schema)) return true;
  seen.add(schema);
  if (specialTypes.has(schema.typeName)) return false;
  for (const field of schema.fields) {
    const child =
      field.fieldKind === "message" ||
      (field.fieldKind === "list" && field.listKind === "message") ||
      (field.fieldKind === "map" && field.mapKind === "message")
        ? field.message
        : undefined;
    if (child === undefined) continue;
    if ("delimitedEncoding" in field && field.delimitedEncoding) return false;
    if (!plain(child, seen)) return false;
  }
  return true;
}

function compile(schema: DescMessage): WriteMessage {
  const typeName = schema.typeName;
  const fields = schema.fields.concat().sort((a, b) => a.number - b.number);
  const writers: WriteMessage[] = [];
  const first = fields[0];
  const compiled: WriteMessage = (w, message) => {
    if (message.$typeName !== typeName && first !== undefined) {
      throw new Error(`cannot use ${first} with message ${message.$typeName}`);
    }
    for (let i = 0; i < writers.length; i++) writers[i]!(w, message);
    const unknown = message.$unknown;
    if (unknown !== undefined) {
      for (let i = 0; i < unknown.length; i++) {
        const { no, wireType, data } = unknown[i]!;
        w.tag(no, wireType);
        w.raw(data);
      }
    }
  };
  // Registered first, so a recursive type finds itself instead of compiling forever.
  compiledBySchema.set(schema, compiled);
  for (const field of fields) writers.push(fieldWriter(field));
  return compiled;
}

function fieldWriter(field: DescField): WriteMessage {
  const name = field.localName;
  const no = field.number;
  switch (field.fieldKind) {
    case "list": {
      if (field.listKind === "message") {
        const write = childWriter(field.message);
        return (w, m) => {
          const items = m[name] as Message[];
          for (let i = 0; i < items.length; i++) {
            w.tag(no, wire.lengthDelimited);
            write(w, items[i]);
          }
        };
      }
      const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const write = scalarWriter(type, field);
      if (field.packed) {
        return (w, m) => {
          const items = m[name] as unknown[];
          if (items.length === 0) return;
          w.tag(no, wire.lengthDelimited);
          w.fork();
          for (let i = 0; i < items.length; i++) write(w, items[i]);
          w.join();
        };
      }
      const wireType = wireTypeOf(type);
      return (w, m) => {
        const items = m[name] as unknown[];
        for (let i = 0; i < items.length; i++) {
          w.tag(no, wireType);
          write(w, items[i]);
        }
      };
    }
    case "map": {
      const keyType = field.mapKey;
      const writeKey = scalarWriter(keyType, field);
      const keyOf = mapKeyConverter(keyType);
      const keyWire = wireTypeOf(keyType);
      let writeValue: WriteValue;
      let valueWire: number;
      if (field.mapKind === "message") {
        const write = childWriter(field.message);
        writeValue = (w, value) => write(w, value);
        valueWire = wire.lengthDelimited;
      } else {
        const type = field.mapKind === "enum" ? ScalarType.INT32 : field.scalar;
        writeValue = scalarWriter(type, field);
        valueWire = wireTypeOf(type);
      }
      return (w, m) => {
        const record = m[name] as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          w.tag(no, wire.lengthDelimited);
          w.fork();
          w.tag(1, keyWire);
          writeKey(w, keyOf(key));
          w.tag(2, valueWire);
          writeValue(w, record[key]);
          w.join();
        }
      };
    }
    default:
      return singularWriter(field);
  }
}

function singularWriter(
  field: DescField & { fieldKind: "scalar" | "enum" | "message" },
): WriteMessage {
  const name = field.localName;
  const no = field.number;
  let write: WriteValue;
  if (field.fieldKind === "message") {
    const child = childWriter(field.message);
    write = (w, value) => {
      w.tag(no, wire.lengthDelimited);
      child(w, value);
    };
  } else {
    const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar;
    const scalar = scalarWriter(type, field);
    const wireType = wireTypeOf(type);
    write = (w, value) => {
      w.tag(no, wireType);
      scalar(w, value);
    };
  }
  if (field.oneof !== undefined) {
    const oneof = field.oneof.localName;
    return (w, m) => {
      const selected = m[oneof] as { case?: string; value?: unknown };
      if (selected.case === name) write(w, selected.value);
    };
  }
  if (field.presence !== implicitPresence) {
    const required = field.presence === legacyRequired;
    return (w, m) => {
      const value = m[name];
      // Explicit presence: defaults live on the prototype chain (proto2), so only own values count.
      if (value !== undefined && Object.hasOwn(m, name)) write(w, value);
      else if (required)
        throw new Error(`cannot encode ${field} to binary: required field not set`);
    };
  }
  const isZero = zeroTest(field as DescField & { fieldKind: "scalar" | "enum" });
  return (w, m) => {
    const value = m[name];
    if (!isZero(value)) write(w, value);
  };
}

/** A nested message as a length-delimited payload. */
function childWriter(schema: DescMessage): WriteValue {
  let compiled: WriteMessage | undefined;
  return (w, value) => {
    compiled ??= compiledFor(schema)!;
    w.fork();
    compiled(w, value as Message);
    w.join();
  };
}

/** The zero value of an implicit-presence field, which is not written (protobuf-es's checks). */
function zeroTest(
  field: DescField & { fieldKind: "scalar" | "enum" },
): (value: unknown) => boolean {
  if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]?.number;
    return (value) => value === zero;
  }
  switch (field.scalar) {
    case ScalarType.BOOL:
      return (value) => value === false;
    case ScalarType.STRING:
      return (value) => value === "";
    case ScalarType.BYTES:
      return (value) => value instanceof Uint8Array && value.byteLength === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (value) => Object.is(value, 0);
    default:
      // Loose, as protobuf-es: 0, 0n and "0".
      // biome-ignore lint/suspicious/noDoubleEquals: matches 0n and "0" as well as 0
      return (value) => value == 0;
  }
}

function wireTypeOf(type: ScalarType): number {
  switch (type) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return wire.lengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return wire.bit64;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return wire.bit32;
    default:
      return wire.varint;
  }
}

/** A bare scalar value; errors name the field, as protobuf-es's do. */
function scalarWriter(type: ScalarType, field: DescField): WriteValue {
  const write = scalarWrite(type);
  const where = `${field.parent.typeName}.${field.name}`;
  return (w, value) => {
    try {
      write(w, value as never);
    } catch (error) {
      if (error instanceof Error)
        throw new Error(`cannot encode field ${where} to binary: ${error.message}`);
      throw error;
    }
  };
}

function scalarWrite(type: ScalarType): (w: ProtoWriter, value: never) => void {
  switch (type) {
    case ScalarType.STRING:
      return (w, value) => w.string(value);
    case ScalarType.BOOL:
      return (w, value) => w.bool(value);
    case ScalarType.DOUBLE:
      return (w, value) => w.double(value);
    case ScalarType.FLOAT:
      return (w, value) => w.float(value);
    case ScalarType.INT32:
      return (w, value) => w.int32(value);
    case ScalarType.INT64:
      return (w, value) => w.int64(value);
    case ScalarType.UINT64:
      return (w, value) => w.uint64(value);
    case ScalarType.FIXED64:
      return (w, value) => w.fixed64(value);
    case ScalarType.BYTES:
      return (w, value) => w.bytes(value);
    case ScalarType.FIXED32:
      return (w, value) => w.fixed32(value);
    case ScalarType.SFIXED32:
      return (w, value) => w.sfixed32(value);
    case ScalarType.SFIXED64:
      return (w, value) => w.sfixed64(value);
    case ScalarType.SINT64:
      return (w, value) => w.sint64(value);
    case ScalarType.UINT32:
      return (w, value) => w.uint32(value);
    case ScalarType.SINT32:
      return (w, value) => w.sint32(value);
  }
}

/** Map keys are object keys, so strings: back to the key's type (invalid ones pass through). */
function mapKeyConverter(type: ScalarType): (key: string) => unknown {
  switch (type) {
    case ScalarType.STRING:
      return (key) => key;
    case ScalarType.BOOL:
      return (key) => (key === "true" ? true : key === "false" ? false : key);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return (key) => tryOr(() => protoInt64.uParse(key), key);
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return (key) => tryOr(() => protoInt64.parse(key), key);
    default: {
      return (key) => {
        const n = Number.parseInt(key, 10);
        return Number.isFinite(n) ? n : key;
      };
    }
  }
}

function tryOr<T>(f: () => T, fallback: unknown): unknown {
  try {
    return f();
  } catch {
    return fallback;
  }
}
