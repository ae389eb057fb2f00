import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, protoInt64, ScalarType } from "@bufbuild/protobuf";
import { specialTypes } from "./proto-encode.ts";

/**
 * `fromBinary(schema, bytes)`'s message, read without protobuf-es's per-message reader (a
 * `BinaryReader` with its DataView, a read context, a tag array per field: ≈ 10 % of a busy
 * plugin's time on a stream of small messages, docs/performance.md §26). Each proto3 schema of
 * plain fields is compiled once into field readers that follow protobuf-es's own (from-binary.js);
 * the message itself is protobuf-es's `create(schema)`, so its shape is theirs.
 *
 * Whatever this reader does not handle exactly as protobuf-es does — an unknown field (kept in
 * `$unknown`), a message field seen twice (merged), bytes that are malformed in any way,
 * proto2 and editions files, the well-known types protobuf-es represents specially — makes it
 * give up and hand the same bytes to `fromBinary`, whose result or error the caller gets. It never
 * returns what `fromBinary` would not.
 */
export function decodeProto(schema: DescMessage, bytes: Uint8Array): unknown {
  const compiled = compiledFor(schema);
  if (compiled !== undefined) {
    buf = bytes;
    pos = 0;
    view = undefined;
    try {
      return readMessage(compiled, bytes.length, 0);
    } catch (error) {
      if (error !== giveUp) throw error;
    } finally {
      buf = empty;
      view = undefined;
    }
  }
  return fromBinary(schema, bytes);
}

/** Whether messages of `schema` are read here first (not by fromBinary alone): for tests. */
export function decodesItself(schema: DescMessage): boolean {
  return compiledFor(schema) !== undefined;
}

type Message = Record<string, unknown>;
type ReadField = (message: Message, wireType: number, depth: number) => void;
interface Compiled {
  readonly schema: DescMessage;
  /** By field number; undefined: a field this schema does not have. */
  readonly fields: (ReadField | undefined)[];
}

/** Thrown (never escapes) where fromBinary must decide. */
const giveUp = new Error("left to fromBinary");
const empty = new Uint8Array(0);
let buf: Uint8Array = empty;
let pos = 0;
let view: DataView | undefined;
const proto3 = 999;
const recursionLimit = 100;
const wire = { varint: 0, bit64: 1, lengthDelimited: 2, bit32: 5 } as const;
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const compiledBySchema = new WeakMap<DescMessage, Compiled | null>();

function compiledFor(schema: DescMessage): Compiled | undefined {
  const known = compiledBySchema.get(schema);
  if (known !== undefined) return known ?? undefined;
  if (!plain(schema, new Set())) {
    compiledBySchema.set(schema, null);
    return undefined;
  }
  const fields: (ReadField | undefined)[] = [];
  const compiled: Compiled = { schema, fields };
  compiledBySchema.set(schema, compiled); // before its fields: recursive types find it
  for (const field of schema.fields) fields[field.number] = fieldReader(field);
  return compiled;
}

/** Proto3, no specially represented types, and every message it holds so too. */
function plain(schema: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(schema)) return true;
  seen.add(schema);
  if (schema.file.edition !== proto3 || specialTypes.has(schema.typeName)) return false;
  if (schema.fields.some((field) => field.number > 4096)) return false; // a dense table by number
  return schema.fields.every((field) => {
    if (field.fieldKind === "map")
      return field.mapKind === "message"
        ? plain(field.message, seen)
        : field.mapKind !== "enum" || field.enum.open;
    if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum"))
      return field.enum.open;
    if (
      field.fieldKind === "message" ||
      (field.fieldKind === "list" && field.listKind === "message")
    )
      return !field.delimitedEncoding && plain(field.message, seen);
    return true;
  });
}

function readMessage(compiled: Compiled, end: number, depth: number): Message {
  if (depth >= recursionLimit) throw giveUp;
  const message = create(compiled.schema) as unknown as Message;
  const fields = compiled.fields;
  while (pos < end) {
    const tag = varint32();
    const read = fields[tag >>> 3];
    if (read === undefined) throw giveUp; // unknown to this schema: fromBinary keeps it
    read(message, tag & 7, depth);
  }
  if (pos !== end) throw giveUp;
  return message;
}

function fieldReader(field: DescField): ReadField {
  const name = field.localName;
  if (field.oneof !== undefined) return oneofReader(field, field.oneof.localName);
  switch (field.fieldKind) {
    case "map":
      return mapReader(field);
    case "message": {
      const child = compiledFor(field.message)!;
      return (message, wireType, depth) => {
        if (wireType !== wire.lengthDelimited || message[name] !== undefined) throw giveUp;
        message[name] = readMessage(child, length(), depth + 1);
      };
    }
    case "list": {
      if (field.listKind === "message") {
        const child = compiledFor(field.message)!;
        return (message, wireType, depth) => {
          if (wireType !== wire.lengthDelimited) throw giveUp;
          (message[name] as unknown[]).push(readMessage(child, length(), depth + 1));
        };
      }
      const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const longAsString = field.listKind === "scalar" && field.longAsString;
      const [read, expected] = scalarReader(type, field.utf8Validation, longAsString);
      const packable = type !== ScalarType.STRING && type !== ScalarType.BYTES;
      return (message, wireType) => {
        const items = message[name] as unknown[];
        if (packable && wireType === wire.lengthDelimited) {
          const end = length();
          while (pos < end) items.push(read());
          if (pos !== end) throw giveUp;
        } else if (wireType === expected) items.push(read());
        else throw giveUp;
      };
    }
    default: {
      const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar!;
      const longAsString = field.fieldKind === "scalar" && field.longAsString;
      const [read, expected] = scalarReader(type, field.utf8Validation, longAsString);
      return (message, wireType) => {
        if (wireType !== expected) throw giveUp;
        message[name] = read();
      };
    }
  }
}

/** A member of a oneof: the group's property becomes `{ case, value }`, as protobuf-es has it. */
function oneofReader(field: DescField, group: string): ReadField {
  const name = field.localName;
  if (field.fieldKind === "message") {
    const child = compiledFor(field.message)!;
    return (message, wireType, depth) => {
      // The same case again is merged by fromBinary.
      if (wireType !== wire.lengthDelimited || (message[group] as { case?: string }).case === name)
        throw giveUp;
      message[group] = { case: name, value: readMessage(child, length(), depth + 1) };
    };
  }
  const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar!;
  const longAsString = field.fieldKind === "scalar" && field.longAsString;
  const [read, expected] = scalarReader(type, field.utf8Validation, longAsString);
  return (message, wireType) => {
    if (wireType !== expected) throw giveUp;
    message[group] = { case: name, value: read() };
  };
}

/** A map field: each entry a key (1) and a value (2), either missing meaning its zero. */
function mapReader(field: DescField & { fieldKind: "map" }): ReadField {
  const name = field.localName;
  const [readKey, keyWire] = scalarReader(field.mapKey, field.utf8Validation, false);
  const keyZero = scalarZero(field.mapKey);
  const [readValue, valueWire, valueZero] = mapValue(field);
  return (message, wireType, depth) => {
    if (wireType !== wire.lengthDelimited) throw giveUp;
    const end = length();
    let key: unknown;
    let value: unknown;
    while (pos < end) {
      const tag = varint32();
      if (tag === (1 << 3) + keyWire) key = readKey();
      else if (tag === (2 << 3) + valueWire && value === undefined) value = readValue(depth);
      else throw giveUp; // anything else in an entry, or a value twice: fromBinary decides
    }
    if (pos !== end) throw giveUp;
    setOwn(message[name] as Record<string, unknown>, String(key ?? keyZero), value ?? valueZero());
  };
}

/** How a map's values are read, their wire type, and the value of an entry without one. */
function mapValue(
  field: DescField & { fieldKind: "map" },
): [(depth: number) => unknown, number, () => unknown] {
  if (field.mapKind === "message") {
    const child = compiledFor(field.message)!;
    const schema = field.message;
    return [
      (depth) => readMessage(child, length(), depth + 1),
      wire.lengthDelimited,
      () => create(schema),
    ];
  }
  const type = field.mapKind === "enum" ? ScalarType.INT32 : field.scalar;
  const [read, expected] = scalarReader(type, field.utf8Validation, false);
  if (field.mapKind === "scalar" && field.scalar === ScalarType.BYTES)
    return [read, expected, () => new Uint8Array(0)];
  const zero = field.mapKind === "enum" ? field.enum.values[0]!.number : scalarZero(field.scalar);
  return [read, expected, () => zero];
}

/** `record[key] = value` as protobuf-es's setOwn: "__proto__" is an own property too. */
function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== "__proto__") record[key] = value;
  else
    Object.defineProperty(record, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
}

const longTypes = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** protobuf-es's zero value of a scalar other than bytes (64-bit integers as bigint). */
function scalarZero(type: ScalarType): unknown {
  if (type === ScalarType.STRING) return "";
  if (type === ScalarType.BOOL) return false;
  return longTypes.has(type) ? protoInt64.zero : 0;
}

/** A reader for one value of `type` and the wire type it is written with. */
function scalarReader(
  type: ScalarType,
  validateUtf8: boolean,
  longAsString: boolean,
): [() => unknown, number] {
  const long = (read: () => bigint) =>
    longAsString ? () => String(read()) : (read as () => unknown);
  switch (type) {
    case ScalarType.STRING: {
      const decoder = validateUtf8 ? utf8Strict : utf8;
      return [
        () => {
          const bytes = lengthDelimited();
          try {
            return decoder.decode(bytes);
          } catch {
            throw giveUp; // fromBinary's own error for invalid UTF-8
          }
        },
        wire.lengthDelimited,
      ];
    }
    case ScalarType.BYTES:
      return [lengthDelimited, wire.lengthDelimited];
    case ScalarType.BOOL:
      return [() => varint64((lo, hi) => lo !== 0 || hi !== 0), wire.varint];
    case ScalarType.INT32:
      return [() => varint32() | 0, wire.varint];
    case ScalarType.UINT32:
      return [varint32, wire.varint];
    case ScalarType.SINT32:
      return [
        () => {
          const zigzag = varint32();
          return (zigzag >>> 1) ^ -(zigzag & 1);
        },
        wire.varint,
      ];
    case ScalarType.INT64:
      return [long(() => varint64(protoInt64.dec) as bigint), wire.varint];
    case ScalarType.UINT64:
      return [long(() => varint64(protoInt64.uDec) as bigint), wire.varint];
    case ScalarType.SINT64:
      return [
        long(
          () =>
            varint64((lo, hi) => {
              const sign = -(lo & 1);
              return protoInt64.dec(((lo >>> 1) | ((hi & 1) << 31)) ^ sign, (hi >>> 1) ^ sign);
            }) as bigint,
        ),
        wire.varint,
      ];
    case ScalarType.FIXED32:
      return [() => fixed(4).getUint32(pos - 4, true), wire.bit32];
    case ScalarType.SFIXED32:
      return [() => fixed(4).getInt32(pos - 4, true), wire.bit32];
    case ScalarType.FLOAT:
      return [() => fixed(4).getFloat32(pos - 4, true), wire.bit32];
    case ScalarType.DOUBLE:
      return [() => fixed(8).getFloat64(pos - 8, true), wire.bit64];
    case ScalarType.FIXED64:
      return [long(() => fixed64(protoInt64.uDec)), wire.bit64];
    case ScalarType.SFIXED64:
      return [long(() => fixed64(protoInt64.dec)), wire.bit64];
  }
}

/** A uint32 varint as protobuf-es reads one (the low 32 bits of up to 10 bytes). */
function varint32(): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) throw giveUp;
    const byte = buf[pos++]!;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result >>> 0;
  }
  for (let more = 5; more < 10; more++) {
    if (pos >= buf.length) throw giveUp;
    if ((buf[pos++]! & 0x80) === 0) return result >>> 0;
  }
  throw giveUp;
}

/** A 64-bit varint, handed to `value` as its low and high 32 bits. */
function varint64<T>(value: (lo: number, hi: number) => T): T {
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= buf.length) throw giveUp;
    const byte = buf[pos++]!;
    const bits = byte & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi = bits >> 4;
    } else hi |= bits << (shift - 32);
    if ((byte & 0x80) === 0) return value(lo, hi);
  }
  throw giveUp;
}

function fixed(size: number): DataView {
  if (pos + size > buf.length) throw giveUp;
  pos += size;
  view ??= new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view;
}

function fixed64(value: (lo: number, hi: number) => bigint | string): bigint {
  const data = fixed(8);
  return value(data.getInt32(pos - 8, true), data.getInt32(pos - 4, true)) as bigint;
}

/** A length prefix; the end of what it announces, within the bytes. */
function length(): number {
  const size = varint32(); // read first: `pos + varint32()` would take pos from before it
  const end = pos + size;
  if (end > buf.length) throw giveUp;
  return end;
}

/** A length-delimited value: a view of the bytes, as protobuf-es's reader returns. */
function lengthDelimited(): Uint8Array {
  const end = length();
  const bytes = buf.subarray(pos, end);
  pos = end;
  return bytes;
}
