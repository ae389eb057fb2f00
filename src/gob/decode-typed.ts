// Decoding into a declared type, as Go's decoder does (decode.go compatibleType, compileDec):
// the wire type must be compatible (same kind; struct fields matched by name, missing fields
// zero, extra fields skipped; array lengths equal), and integers must fit the declared width.
// A misfit is GOB_TYPE; the decoder then re-reads the value without a schema to stay in step.

import { PluginError } from "../errors/plugin-error.ts";
import { decodeAny, decodeInterface, fieldDelta, needsByte, wireOf } from "./decode-any.ts";
import type { DecodeSession, FieldMap } from "./decode-state.ts";
import { gobInvalid, gobTypeError, underPath } from "./errors.ts";
import { baseOf, goString } from "./type-names.ts";
import type { GoStructType, GoType } from "./types.ts";
import type { WireType } from "./wire-type.ts";
import { TypeId } from "./wire-type.ts";
import { zeroValue } from "./zero.ts";

type StructWire = Extract<WireType, { kind: "struct" }>;

const kindIds: Record<string, number> = {
  bool: TypeId.bool,
  int: TypeId.int,
  int8: TypeId.int,
  int16: TypeId.int,
  int32: TypeId.int,
  int64: TypeId.int,
  uint: TypeId.uint,
  uint8: TypeId.uint,
  uint16: TypeId.uint,
  uint32: TypeId.uint,
  uint64: TypeId.uint,
  uintptr: TypeId.uint,
  float32: TypeId.float,
  float64: TypeId.float,
  complex64: TypeId.complex,
  complex128: TypeId.complex,
  string: TypeId.string,
  bytes: TypeId.bytes,
  interface: TypeId.interface,
};

/** Go's compatibleType: can a value of wire type `id` decode into `type`? */
function compatible(
  s: DecodeSession,
  type: GoType,
  id: number,
  inProgress: Map<GoType, number>,
): boolean {
  const seen = inProgress.get(type);
  if (seen !== undefined) return seen === id;
  inProgress.set(type, id);
  const base = baseOf(type);
  const wire = id > TypeId.interface ? s.wire.get(id) : undefined;
  if ((base.kind === "opaque") !== (wire?.kind === "opaque")) return false;
  switch (base.kind) {
    case "opaque":
      return wire?.kind === "opaque" && wire.marshaler === base.marshaler;
    case "struct":
      return wire?.kind === "struct";
    case "array":
      return (
        wire?.kind === "array" &&
        wire.length === base.length &&
        compatible(s, base.elem, wire.elem, inProgress)
      );
    case "slice":
      return wire?.kind === "slice" && compatible(s, base.elem, wire.elem, inProgress);
    case "map":
      return (
        wire?.kind === "map" &&
        compatible(s, base.key, wire.key, inProgress) &&
        compatible(s, base.elem, wire.elem, inProgress)
      );
    default:
      return kindIds[base.kind] === id;
  }
}

function describeWire(s: DecodeSession, id: number): string {
  const names = ["", "bool", "int", "uint", "float", "[]byte", "string", "complex", "interface"];
  if (id <= TypeId.interface) return names[id] ?? `type ${id}`;
  const wire = s.wire.get(id);
  if (wire === undefined) return `unknown type ${id}`;
  return wire.name === "" ? `a ${wire.kind}` : `${wire.name} (a ${wire.kind})`;
}

function check(s: DecodeSession, type: GoType, id: number): void {
  let byId = s.typed.compatible.get(type);
  if (byId === undefined) {
    byId = new Map();
    s.typed.compatible.set(type, byId);
  }
  let ok = byId.get(id);
  if (ok === undefined) {
    if (id > TypeId.interface) wireOf(s, id); // an unknown id is a broken stream, not a misfit
    ok = compatible(s, type, id, new Map());
    byId.set(id, ok);
  }
  if (!ok)
    throw gobTypeError(
      "",
      `is declared ${goString(type)}, but the stream sends ${describeWire(s, id)}`,
    );
}

/** A top-level (or interface) value of `type`; a misfit's path starts with the type's name. */
export function decodeTopTyped(s: DecodeSession, id: number, type: GoType): unknown {
  try {
    return decodeTop(s, id, type);
  } catch (error) {
    throw underPath(error, pathOf(type));
  }
}

function decodeTop(s: DecodeSession, id: number, type: GoType): unknown {
  const base = baseOf(type);
  check(s, base, id);
  if (base.kind === "struct") return decodeStruct(s, base, id, true);
  if (s.r.uint() !== 0) throw gobInvalid("a non-struct value does not start with a 0 delta");
  return decodeTyped(s, base, id);
}

function pathOf(type: GoType): string {
  const base = baseOf(type);
  return base.kind === "struct" && base.name !== "" ? base.name : "value";
}

const intLimits: Record<string, readonly [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint: [0, Number.MAX_SAFE_INTEGER],
};

function fitInt(kind: string, v: number | bigint): number | bigint {
  if (kind === "int64" || kind === "uint64" || kind === "uintptr") return BigInt(v);
  const [min, max] = intLimits[kind]!;
  if (typeof v === "number" && v >= min && v <= max) return v;
  throw gobTypeError("", `value ${v} is out of range for ${kind}`);
}

function fitFloat32(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f) && Number.isFinite(v))
    throw gobTypeError("", `value ${v} is out of range for float32`);
  return f;
}

/** One value of `type` from wire type `id` (compatibility already checked). */
function decodeTyped(s: DecodeSession, type: GoType, id: number): unknown {
  const r = s.r;
  switch (type.kind) {
    case "ptr":
      return decodeTyped(s, type.elem, id);
    case "bool":
      return r.uint() !== 0;
    case "int":
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      return fitInt(type.kind, r.int());
    case "uint":
    case "uint8":
    case "uint16":
    case "uint32":
    case "uint64":
    case "uintptr":
      return fitInt(type.kind, r.uint());
    case "float32":
      return fitFloat32(r.float());
    case "float64":
      return r.float();
    case "complex64":
      return { real: fitFloat32(r.float()), imag: fitFloat32(r.float()) };
    case "complex128":
      return { real: r.float(), imag: r.float() };
    case "string":
      return r.string("a string");
    case "bytes":
      return r.byteString("a []byte");
    case "interface":
      return decodeInterface(s, (session, concreteId, concrete) => {
        try {
          return decodeTop(session, concreteId, concrete);
        } catch (error) {
          throw underPath(error, `(${goString(concrete)})`);
        }
      });
    default:
      return decodeComposite(s, type, id);
  }
}

function decodeComposite(s: DecodeSession, type: GoType, id: number): unknown {
  const wire = wireOf(s, id);
  s.enter();
  try {
    switch (type.kind) {
      case "struct":
        return decodeStruct(s, type, id, false);
      case "slice":
      case "array":
        return decodeList(s, type, wire as Extract<WireType, { kind: "slice" }>);
      case "map":
        return decodeMap(s, type, wire as Extract<WireType, { kind: "map" }>);
      case "opaque":
        return decodeOpaque(s, type);
      default:
        throw gobInvalid(`no decoder for ${type.kind}`);
    }
  } finally {
    s.leave();
  }
}

function decodeList(
  s: DecodeSession,
  type: Extract<GoType, { kind: "slice" | "array" }>,
  wire: Extract<WireType, { kind: "slice" }>,
): unknown {
  const n = s.r.count("a slice length");
  if (type.kind === "array" && n !== type.length)
    throw gobInvalid(`an array of ${n} elements, its type says ${type.length}`);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    needsByte(s, n);
    try {
      out.push(decodeTyped(s, type.elem, wire.elem));
    } catch (error) {
      throw underPath(error, `[${i}]`);
    }
  }
  return type.kind === "array" && type.elem.kind === "uint8"
    ? Uint8Array.from(out as number[])
    : out;
}

function decodeMap(
  s: DecodeSession,
  type: Extract<GoType, { kind: "map" }>,
  wire: Extract<WireType, { kind: "map" }>,
): Map<unknown, unknown> {
  const n = s.r.count("a map length");
  const out = new Map<unknown, unknown>();
  for (let i = 0; i < n; i++) {
    needsByte(s, n);
    let key: unknown;
    try {
      key = decodeTyped(s, type.key, wire.key);
      out.set(key, decodeTyped(s, type.elem, wire.elem));
    } catch (error) {
      throw underPath(error, key === undefined ? "(key)" : `[${String(key)}]`);
    }
  }
  return out;
}

function decodeOpaque(s: DecodeSession, type: Extract<GoType, { kind: "opaque" }>): unknown {
  const bytes = s.r.byteString(`a ${type.name} value`);
  try {
    return type.codec.decode(bytes);
  } catch (error) {
    const reason =
      error instanceof PluginError
        ? String(error.details.reason ?? error.rawMessage)
        : String(error);
    throw gobTypeError("", `does not decode as ${type.name}: ${reason}`);
  }
}

/** Wire field index → schema field index (-1: skipped), checked as Go's compileDec checks. */
function fieldMap(s: DecodeSession, type: GoStructType, wire: StructWire, id: number): FieldMap {
  let byId = s.typed.fieldMaps.get(type);
  if (byId === undefined) {
    byId = new Map();
    s.typed.fieldMaps.set(type, byId);
  }
  const known = byId.get(id);
  if (known !== undefined) return known;
  const to = new Int32Array(wire.fields.length).fill(-1);
  wire.fields.forEach((wf, i) => {
    const at = type.fields.findIndex((f) => f.name === wf.name);
    if (at < 0) return;
    try {
      check(s, type.fields[at]!.type, wf.id);
    } catch (error) {
      throw underPath(error, `.${wf.name}`);
    }
    to[i] = at;
  });
  const map = { to, matched: to.some((m) => m >= 0) };
  byId.set(id, map);
  return map;
}

const missing = Symbol("missing");

function decodeStruct(s: DecodeSession, type: GoStructType, id: number, top: boolean) {
  const wire = wireOf(s, id) as StructWire;
  const map = fieldMap(s, type, wire, id);
  const fields = type.fields;
  if (top && fields.length > 0 && wire.fields.length > 0 && !map.matched)
    throw gobTypeError("", `shares no field with the stream's ${wire.name || "struct"}`);
  const values: unknown[] = new Array(fields.length).fill(missing);
  const r = s.r;
  let at = -1;
  while (r.remaining > 0) {
    const delta = fieldDelta(s, at, wire.fields.length);
    if (delta === 0) break;
    at += delta;
    const to = map.to[at]!;
    const wf = wire.fields[at]!;
    if (to < 0) {
      decodeAny(s, wf.id);
      continue;
    }
    try {
      values[to] = decodeTyped(s, fields[to]!.type, wf.id);
    } catch (error) {
      throw underPath(error, `.${fields[to]!.name}`);
    }
  }
  // Cloning a template gives every value of the type one object shape, which V8 stores fast.
  const out: Record<string, unknown> = { ...templateOf(type) };
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const value = values[i];
    out[f.name] = value === missing ? zeroValue(f.type) : value;
  }
  return out;
}

const templates = new WeakMap<GoStructType, Record<string, null>>();

function templateOf(type: GoStructType): Record<string, null> {
  let template = templates.get(type);
  if (template === undefined) {
    template = {};
    for (const f of type.fields) template[f.name] = null;
    templates.set(type, template);
  }
  return template;
}
