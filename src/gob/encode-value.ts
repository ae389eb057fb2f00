// Encoding JS values as the Go types declared for them (encoding/gob encode.go). Every value is
// checked against its type before a byte of it is written; a misfit is GOB_TYPE naming the path.
// In a struct, zero-valued fields are left out (Go's rule: false, 0, "", an empty slice, a nil map,
// pointer or interface; a struct or array field is always sent); everywhere else zeros are sent.
import { gobTypeError, underPath } from "./errors.ts";
import type { GoStructType, GoType } from "./types.ts";
import type { GobWriter } from "./wire-ints.ts";
import { zeroValue } from "./zero.ts";

/** What the value encoder asks of the encoder: interfaces need its type table and writers. */
export interface EncodeContext {
  interfaceValue(b: GobWriter, value: unknown): void;
}

const intRanges: Record<string, readonly [bigint, bigint]> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint: [0n, 2n ** 64n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uintptr: [0n, 2n ** 64n - 1n],
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Map) return "a Map";
  if (value instanceof Uint8Array) return "a Uint8Array";
  if (typeof value === "string") return `a string (${JSON.stringify(value.slice(0, 20))})`;
  if (typeof value === "number" || typeof value === "bigint") return `${typeof value} ${value}`;
  return typeof value === "object" ? "an object" : String(typeof value);
}

function mismatch(expected: string, value: unknown) {
  return gobTypeError("", `expected ${expected}, got ${describe(value)}`);
}

/** Checks an integer of Go kind `kind`; returns it for the writer. */
function checkInt(kind: string, value: unknown): number | bigint {
  const [min, max] = intRanges[kind]!;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw mismatch(`an integer (${kind})`, value);
    if (value >= Number(min) && value <= Number(max) && (value >= 0 || min < 0n)) {
      if (Number.isSafeInteger(value)) return value;
      const big = BigInt(value);
      if (big >= min && big <= max) return big;
    }
    throw gobTypeError("", `${value} does not fit Go's ${kind}`);
  }
  if (typeof value === "bigint") {
    if (value < min || value > max) throw gobTypeError("", `${value} does not fit Go's ${kind}`);
    return value;
  }
  throw mismatch(`an integer (${kind})`, value);
}

function checkFloat(kind: string, value: unknown): number {
  if (typeof value !== "number") throw mismatch(`a number (${kind})`, value);
  if (kind === "float32" || kind === "complex64") {
    const f = Math.fround(value);
    if (!Number.isFinite(f) && Number.isFinite(value))
      throw gobTypeError("", `${value} does not fit Go's float32`);
    return f;
  }
  return value;
}

function checkString(value: unknown): string {
  if (typeof value !== "string") throw mismatch("a string", value);
  if (!value.isWellFormed()) throw gobTypeError("", "is not well-formed UTF-16 (a lone surrogate)");
  return value;
}

/** Writes a value with zeros sent (an element, a map entry, a top-level or interface value). */
export function writeElem(ctx: EncodeContext, w: GobWriter, type: GoType, value: unknown): void {
  switch (type.kind) {
    case "bool":
      if (typeof value !== "boolean") throw mismatch("a boolean", value);
      w.uint(value ? 1 : 0);
      return;
    case "int":
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      w.int(checkInt(type.kind, value));
      return;
    case "uint":
    case "uint8":
    case "uint16":
    case "uint32":
    case "uint64":
    case "uintptr":
      w.uint(checkInt(type.kind, value));
      return;
    case "float32":
    case "float64":
      w.float(checkFloat(type.kind, value));
      return;
    case "complex64":
    case "complex128":
      writeComplex(w, type.kind, value);
      return;
    case "string":
      w.string(checkString(value));
      return;
    case "bytes":
      if (!(value instanceof Uint8Array)) throw mismatch("a Uint8Array ([]byte)", value);
      w.bytes(value);
      return;
    case "interface":
      ctx.interfaceValue(w, value);
      return;
    case "ptr":
      if (value === null || value === undefined)
        throw gobTypeError("", "is a nil pointer, which gob cannot send here");
      writeElem(ctx, w, type.elem, value);
      return;
    case "struct":
      writeStruct(ctx, w, type, value);
      return;
    case "slice":
      writeList(ctx, w, type.elem, value, undefined);
      return;
    case "array":
      writeList(ctx, w, type.elem, value, type.length);
      return;
    case "map":
      writeMap(ctx, w, type, value);
      return;
    case "opaque":
      if (!type.codec.accepts(value)) throw mismatch(`a value of ${type.name}`, value);
      w.bytes(type.codec.encode(value, ""));
      return;
  }
}

function writeComplex(w: GobWriter, kind: string, value: unknown): void {
  if (typeof value !== "object" || value === null || !("real" in value) || !("imag" in value))
    throw mismatch("a complex number { real, imag }", value);
  w.float(checkFloat(kind, value.real));
  w.float(checkFloat(kind, value.imag));
}

function writeList(
  ctx: EncodeContext,
  w: GobWriter,
  elem: GoType,
  value: unknown,
  length: number | undefined,
): void {
  const isBytes = elem.kind === "uint8" && value instanceof Uint8Array;
  if (!Array.isArray(value) && !isBytes) throw mismatch("an array", value);
  const list = value as ArrayLike<unknown>;
  if (length !== undefined && list.length !== length)
    throw gobTypeError("", `has ${list.length} elements, the Go array ${length}`);
  w.uint(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      writeElem(ctx, w, elem, list[i]);
    } catch (error) {
      throw underPath(error, `[${i}]`);
    }
  }
}

function mapEntries(type: Extract<GoType, { kind: "map" }>, value: unknown) {
  if (value instanceof Map) return value;
  // A plain object stands for a map with string keys, for convenience.
  if (
    type.key.kind === "string" &&
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value)
  )
    return new Map(Object.entries(value));
  throw mismatch("a Map", value);
}

function writeMap(
  ctx: EncodeContext,
  w: GobWriter,
  type: Extract<GoType, { kind: "map" }>,
  value: unknown,
): void {
  if (value === null || value === undefined) {
    w.uint(0); // a nil map, sent as empty
    return;
  }
  const entries = mapEntries(type, value);
  w.uint(entries.size);
  for (const [k, v] of entries) {
    const at = () => `[${typeof k === "string" ? JSON.stringify(k) : String(k)}]`;
    try {
      writeElem(ctx, w, type.key, k);
    } catch (error) {
      throw underPath(error, `${at()}(key)`);
    }
    try {
      writeElem(ctx, w, type.elem, v);
    } catch (error) {
      throw underPath(error, at());
    }
  }
}

const fieldNames = new WeakMap<GoStructType, Set<string>>();

function namesOf(type: GoStructType): Set<string> {
  let names = fieldNames.get(type);
  if (names === undefined) {
    names = new Set(type.fields.map((f) => f.name));
    fieldNames.set(type, names);
  }
  return names;
}

/** Writes a struct: its sent fields as deltas and values, then the 0 that ends it. */
export function writeStruct(
  ctx: EncodeContext,
  w: GobWriter,
  type: GoStructType,
  value: unknown,
): void {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map)
    throw mismatch(`a struct (${type.name || "struct"})`, value);
  const fields = type.fields;
  const record = value as Record<string, unknown>;
  const names = namesOf(type);
  for (const key in record) {
    if (!names.has(key) && Object.hasOwn(record, key))
      throw gobTypeError(`.${key}`, `is not a field of ${type.name || "the struct"}`);
  }
  let last = -1;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const fieldValue = sentValue(field.type, record[field.name]);
    if (fieldValue === omitted) continue;
    w.uint(i - last);
    try {
      writeElem(ctx, w, field.type, fieldValue);
    } catch (error) {
      throw underPath(error, `.${field.name}`);
    }
    last = i;
  }
  w.uint(0);
}

const omitted = Symbol("omitted");

/** What a struct field sends: the value, or `omitted` when Go leaves it out (its zero value). */
function sentValue(type: GoType, value: unknown): unknown {
  if (type.kind === "struct" || type.kind === "array")
    return value === undefined ? zeroValue(type) : value;
  if (value === undefined) return omitted;
  switch (type.kind) {
    case "ptr":
      return value === null ? omitted : sentValue(type.elem, value) === omitted ? omitted : value;
    case "interface":
    case "map":
      return value === null ? omitted : value;
    case "bool":
      return value === false ? omitted : value;
    case "string":
    case "slice":
    case "bytes":
      return (typeof value === "string" || Array.isArray(value) || value instanceof Uint8Array) &&
        value.length === 0
        ? omitted
        : value;
    case "complex64":
    case "complex128": {
      const c = value as { real?: unknown; imag?: unknown } | null;
      return c !== null && c.real === 0 && c.imag === 0 ? omitted : value;
    }
    case "opaque":
      return type.codec.accepts(value) && type.codec.isZero(value) ? omitted : value;
    default:
      // Numbers: -0 is zero too, as Go's `f != 0` says.
      return value === 0 || value === 0n ? omitted : value;
  }
}

/** Writes a top-level (or interface) value: a struct as is, anything else after a 0 delta. */
export function writeTop(ctx: EncodeContext, w: GobWriter, type: GoType, value: unknown): void {
  let t = type;
  while (t.kind === "ptr") {
    if (value === null || value === undefined)
      throw gobTypeError("", "is a nil pointer, which gob cannot send");
    t = t.elem;
  }
  if (t.kind === "struct") {
    writeStruct(ctx, w, t, value);
    return;
  }
  w.uint(0);
  writeElem(ctx, w, t, value);
}
