// gob's type definitions (encoding/gob type.go): a `wireType` struct with one of seven pointer
// fields set, each a struct that starts with a CommonType { Name string; Id int }. Written and
// read here by hand, field by field, exactly as gob's struct encoding lays them out.
import { gobInvalid } from "./errors.ts";
import type { GoMarshaler } from "./types.ts";
import type { GobReader, GobWriter } from "./wire-ints.ts";

/** The predefined type ids. */
export const TypeId = {
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
} as const;

/** The lowest id a type definition may use (gob's firstUserId; a fresh Go process starts here). */
export const firstUserId = 64;

/** A type definition as sent: ids refer to other definitions or to the predefined ids. */
export type WireType =
  | {
      readonly kind: "array";
      readonly name: string;
      readonly elem: number;
      readonly length: number;
    }
  | { readonly kind: "slice"; readonly name: string; readonly elem: number }
  | {
      readonly kind: "struct";
      readonly name: string;
      readonly fields: ReadonlyArray<{ readonly name: string; readonly id: number }>;
    }
  | { readonly kind: "map"; readonly name: string; readonly key: number; readonly elem: number }
  | { readonly kind: "opaque"; readonly name: string; readonly marshaler: GoMarshaler };

/** CommonType.Id, as Go puts it in the definition (it can differ from the id the message uses). */
export type WireTypeDef = WireType & { readonly commonId: number };

const marshalerField: Record<GoMarshaler, number> = { gob: 5, binary: 6, text: 7 };
const fieldKind = ["", "array", "slice", "struct", "map", "gob", "binary", "text"] as const;

/** Writes the struct fields given as [field number, writer] pairs, skipping absent ones. */
function writeStruct(w: GobWriter, fields: ReadonlyArray<readonly [number, (() => void) | false]>) {
  let last = -1;
  for (const [index, write] of fields) {
    if (write === false) continue;
    w.uint(index - last);
    write();
    last = index;
  }
  w.uint(0);
}

function writeCommon(w: GobWriter, name: string, id: number): void {
  writeStruct(w, [
    [0, name !== "" && (() => w.string(name))],
    [1, id !== 0 && (() => w.int(id))],
  ]);
}

/** Writes `def` as a wireType value. */
export function writeWireType(w: GobWriter, def: WireTypeDef): void {
  const common = () => writeCommon(w, def.name, def.commonId);
  const int = (n: number) => n !== 0 && (() => w.int(n));
  const inner = (): void => {
    switch (def.kind) {
      case "array":
        writeStruct(w, [
          [0, common],
          [1, int(def.elem)],
          [2, int(def.length)],
        ]);
        return;
      case "slice":
        writeStruct(w, [
          [0, common],
          [1, int(def.elem)],
        ]);
        return;
      case "struct":
        writeStruct(w, [
          [0, common],
          [1, def.fields.length > 0 && (() => writeFields(w, def.fields))],
        ]);
        return;
      case "map":
        writeStruct(w, [
          [0, common],
          [1, int(def.key)],
          [2, int(def.elem)],
        ]);
        return;
      case "opaque":
        writeStruct(w, [[0, common]]);
        return;
    }
  };
  const index = def.kind === "opaque" ? marshalerField[def.marshaler] : fieldKind.indexOf(def.kind);
  writeStruct(w, [[index - 1, inner]]);
}

function writeFields(w: GobWriter, fields: ReadonlyArray<{ name: string; id: number }>): void {
  w.uint(fields.length);
  for (const field of fields) {
    writeStruct(w, [
      [0, field.name !== "" && (() => w.string(field.name))],
      [1, field.id !== 0 && (() => w.int(field.id))],
    ]);
  }
}

/** Reads a struct's fields: `read(fieldNumber)` consumes one field's value. */
function readStruct(r: GobReader, fieldCount: number, read: (field: number) => void): void {
  let field = -1;
  while (r.remaining > 0) {
    const delta = r.count("a field delta");
    if (delta === 0) return;
    if (delta > fieldCount - 1 - field)
      throw gobInvalid("a type definition's field is out of range");
    field += delta;
    read(field);
  }
}

function readId(r: GobReader): number {
  const id = r.int();
  if (typeof id !== "number" || id < -0x80000000 || id > 0x7fffffff)
    throw gobInvalid(`type id ${id} is out of range`);
  return id;
}

interface Parts {
  name: string;
  commonId: number;
  a: number;
  b: number;
  fields: Array<{ name: string; id: number }>;
}

function readInner(r: GobReader, kind: (typeof fieldKind)[number]): Parts {
  const parts: Parts = { name: "", commonId: 0, a: 0, b: 0, fields: [] };
  const count =
    kind === "array" || kind === "map" ? 3 : kind === "slice" || kind === "struct" ? 2 : 1;
  readStruct(r, count, (field) => {
    if (field === 0) {
      readStruct(r, 2, (f) => {
        if (f === 0) parts.name = r.string("a type name");
        else parts.commonId = readId(r);
      });
    } else if (kind === "struct") {
      parts.fields = readFields(r);
    } else if (field === 1) {
      parts.a = readId(r);
    } else if (kind === "map") {
      parts.b = readId(r);
    } else {
      const n = r.int();
      if (typeof n !== "number")
        throw gobInvalid(`a type definition's number ${n} is out of range`);
      parts.b = n;
    }
  });
  return parts;
}

function readFields(r: GobReader): Array<{ name: string; id: number }> {
  const n = r.count("a field count");
  const fields: Array<{ name: string; id: number }> = [];
  for (let i = 0; i < n; i++) {
    if (r.remaining === 0) throw gobInvalid(`${n} fields are longer than the message`);
    const field = { name: "", id: 0 };
    readStruct(r, 2, (f) => {
      if (f === 0) field.name = r.string("a field name");
      else field.id = readId(r);
    });
    if (field.name === "") throw gobInvalid("a struct type has a field with no name");
    fields.push(field);
  }
  return fields;
}

/** Reads a wireType value: exactly one of its seven kinds must be set. */
export function readWireType(r: GobReader): WireTypeDef {
  let def: WireTypeDef | undefined;
  readStruct(r, 7, (field) => {
    if (def !== undefined) throw gobInvalid("a type definition sets two kinds");
    const kind = fieldKind[field + 1]!;
    const p = readInner(r, kind);
    const common = { name: p.name, commonId: p.commonId };
    if (kind === "array") {
      if (p.b < 0) throw gobInvalid(`an array type of length ${p.b}`);
      def = { kind, ...common, elem: p.a, length: p.b };
    } else if (kind === "slice") def = { kind, ...common, elem: p.a };
    else if (kind === "struct") def = { kind, ...common, fields: p.fields };
    else if (kind === "map") def = { kind, ...common, key: p.a, elem: p.b };
    else if (kind !== "") def = { kind: "opaque", ...common, marshaler: kind };
  });
  if (def === undefined) throw gobInvalid("a type definition sets no kind");
  return def;
}
