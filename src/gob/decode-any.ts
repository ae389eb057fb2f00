// Decoding without a schema: gob describes itself, so any value becomes plain JS (docs/gob.md):
// a struct an object keyed by its Go field names (a field the stream left out is its zero value,
// or null for a struct, array or opaque field), a slice or array an array ([]byte a Uint8Array),
// a map a Map, an integer a number when it is safe and a bigint otherwise, an interface
// { name, value } or null, time.Time a GoTime, another opaque value its bytes.
import type { DecodeSession } from "./decode-state.ts";
import { gobInvalid } from "./errors.ts";
import { unmarshalTime } from "./time.ts";
import type { GoInterfaceValue, GoType } from "./types.ts";
import type { WireType } from "./wire-type.ts";
import { TypeId } from "./wire-type.ts";

type StructWire = Extract<WireType, { kind: "struct" }>;

/** The typed decoder's entry for interface values, when it has a type for the concrete value. */
export type TopDecoder = (s: DecodeSession, id: number, type: GoType) => unknown;

/** The definition of `id`, or GOB_INVALID. */
export function wireOf(s: DecodeSession, id: number): WireType {
  const wire = s.wire.get(id);
  if (wire === undefined) throw gobInvalid(`unknown type id ${id}`, { typeId: id });
  return wire;
}

/** A top-level (or interface) value: a struct as is, anything else after a 0 delta. */
export function decodeTopAny(s: DecodeSession, id: number): unknown {
  const wire = id > TypeId.interface ? wireOf(s, id) : undefined;
  if (wire?.kind === "struct") return decodeStructAny(s, wire);
  if (s.r.uint() !== 0) throw gobInvalid("a non-struct value does not start with a 0 delta");
  return decodeAny(s, id);
}

/** One value of wire type `id`. */
export function decodeAny(s: DecodeSession, id: number): unknown {
  const r = s.r;
  switch (id) {
    case TypeId.bool:
      return r.uint() !== 0;
    case TypeId.int:
      return r.int();
    case TypeId.uint:
      return r.uint();
    case TypeId.float:
      return r.float();
    case TypeId.bytes:
      return r.byteString("a []byte");
    case TypeId.string:
      return r.string("a string");
    case TypeId.complex:
      return { real: r.float(), imag: r.float() };
    case TypeId.interface:
      return decodeInterface(s, undefined);
  }
  const wire = wireOf(s, id);
  s.enter();
  try {
    switch (wire.kind) {
      case "struct":
        return decodeStructAny(s, wire);
      case "slice":
        return decodeList(s, wire.elem, r.count("a slice length"));
      case "array": {
        const n = r.count("an array length");
        if (n !== wire.length)
          throw gobInvalid(`an array of ${n} elements, its type says ${wire.length}`);
        return decodeList(s, wire.elem, n);
      }
      case "map":
        return decodeMapAny(s, wire.key, wire.elem);
      case "opaque": {
        const bytes = r.byteString(`a ${wire.name || "marshalled"} value`);
        return opaqueAny(wire.name, bytes);
      }
    }
  } finally {
    s.leave();
  }
}

function opaqueAny(name: string, bytes: Uint8Array): unknown {
  // Go names time.Time's definition "Time"; a value that parses as one is taken for one.
  if (name === "Time" && (bytes.byteLength === 15 || bytes.byteLength === 16)) {
    try {
      return unmarshalTime(bytes);
    } catch {
      return bytes;
    }
  }
  return bytes;
}

/** Each element takes at least one byte: a count beyond what is left fails at the first miss. */
export function needsByte(s: DecodeSession, n: number): void {
  if (s.r.remaining === 0) throw gobInvalid(`a length of ${n} elements is longer than the message`);
}

function decodeList(s: DecodeSession, elem: number, n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    needsByte(s, n);
    out.push(decodeAny(s, elem));
  }
  return out;
}

function decodeMapAny(s: DecodeSession, key: number, elem: number): Map<unknown, unknown> {
  const n = s.r.count("a map length");
  const out = new Map<unknown, unknown>();
  for (let i = 0; i < n; i++) {
    needsByte(s, n);
    const k = decodeAny(s, key);
    out.set(k, decodeAny(s, elem));
  }
  return out;
}

/** The next field delta of a struct at field `at` of `count` (0 ends it). Go's decodeStruct. */
export function fieldDelta(s: DecodeSession, at: number, count: number): number {
  const delta = s.r.uint();
  if (typeof delta !== "number" || delta > count - 1 - at)
    throw gobInvalid(`field delta ${delta} is past the struct's ${count} fields`);
  return delta;
}

const missing = Symbol("missing");

function decodeStructAny(s: DecodeSession, wire: StructWire): Record<string, unknown> {
  const fields = wire.fields;
  const values: unknown[] = new Array(fields.length).fill(missing);
  const r = s.r;
  let at = -1;
  while (r.remaining > 0) {
    const delta = fieldDelta(s, at, fields.length);
    if (delta === 0) break;
    at += delta;
    values[at] = decodeAny(s, fields[at]!.id);
  }
  const out: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]!.name;
    const value = values[i] === missing ? zeroAny(s, fields[i]!.id) : values[i];
    if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true });
    else out[name] = value;
  }
  return out;
}

/** A missing field's value, from its wire type alone. */
function zeroAny(s: DecodeSession, id: number): unknown {
  switch (id) {
    case TypeId.bool:
      return false;
    case TypeId.int:
    case TypeId.uint:
    case TypeId.float:
      return 0;
    case TypeId.bytes:
      return new Uint8Array(0);
    case TypeId.string:
      return "";
    case TypeId.complex:
      return { real: 0, imag: 0 };
  }
  const kind = s.wire.get(id)?.kind;
  return kind === "slice" ? [] : kind === "map" ? new Map() : null;
}

/**
 * An interface value: the concrete type's name ("" is nil), any definitions it brings (which
 * may end the message: the value then goes on in the next), its type id, a byte count Go
 * ignores, then the value as at top level.
 */
export function decodeInterface(
  s: DecodeSession,
  typed: TopDecoder | undefined,
): GoInterfaceValue | null {
  const r = s.r;
  const n = r.count("an interface type name length");
  if (n === 0) return null;
  if (n > 1024) throw gobInvalid(`an interface type name of ${n} bytes (at most 1024)`);
  const name = r.text(n, "an interface type name");
  s.enter();
  try {
    let id: number;
    for (;;) {
      if (r.remaining === 0) s.nextMessage();
      id = s.typeId();
      if (id >= 0) break;
      s.recvType(-id);
      if (r.remaining > 0) r.uint();
    }
    r.uint();
    const type = typed && s.registry.lookup(name);
    const value = type !== undefined && typed ? typed(s, id, type) : decodeTopAny(s, id);
    return { name, value };
  } finally {
    s.leave();
  }
}
