// The encoder's type table, allocated as Go allocates it (encoding/gob type.go newTypeObject,
// encoder.go sendType), so a fresh encoder's bytes are a fresh Go process's bytes: a struct takes
// its id before its fields, a slice, array or map after its elements; a field's definition is
// named after its type's bare name (or its String() when unnamed), an element's not at all; and
// definitions go out parent first, then what the parent refers to, each once per stream.
import { baseOf, goName, goString, typeKey } from "./type-names.ts";
import type { GoType } from "./types.ts";
import type { GobWriter } from "./wire-ints.ts";
import type { WireTypeDef } from "./wire-type.ts";
import { firstUserId, TypeId, writeWireType } from "./wire-type.ts";

/** One entry of the table: Go's gobType. Ids of what it refers to are fixed when it is built. */
interface Entry {
  id: number;
  readonly name: string;
  readonly node: GoType;
  def?: WireTypeDef;
}

interface Info {
  readonly id: number;
  readonly def: WireTypeDef | undefined;
}

const basicIds: Record<string, number> = {
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

/** The id a type is sent under when it needs no definition, or undefined. */
export function builtinId(type: GoType): number | undefined {
  return basicIds[type.kind];
}

export class EncoderTypes {
  readonly #types = new Map<string, Entry>();
  readonly #infos = new Map<string, Info>();
  /** Go's enc.sent: what this stream has defined, by type key, with the id values are sent as. */
  readonly #sent = new Map<string, number>();
  /** Keys marked sent during the encode in progress, undone if it fails. */
  #pending: string[] = [];
  #nextId = firstUserId;

  #setId(entry: Entry): void {
    if (entry.id === 0) entry.id = this.#nextId++;
  }

  /** Go's getBaseType(name, type): the entry for the type under any pointers. */
  #build(type: GoType, name: string): Entry {
    const node = baseOf(type);
    const builtin = builtinId(node);
    if (builtin !== undefined) return { id: builtin, name, node };
    const key = typeKey(node);
    const known = this.#types.get(key);
    if (known !== undefined) return known;
    const entry: Entry = { id: 0, name, node };
    this.#types.set(key, entry);
    const common = { name, commonId: 0 };
    switch (node.kind) {
      case "opaque":
        this.#setId(entry);
        entry.def = { kind: "opaque", ...common, marshaler: node.marshaler };
        break;
      case "array": {
        const elem = this.#build(node.elem, "");
        this.#setId(entry);
        entry.def = { kind: "array", ...common, elem: elem.id, length: node.length };
        break;
      }
      case "map": {
        const key = this.#build(node.key, "");
        const elem = this.#build(node.elem, "");
        this.#setId(entry);
        entry.def = { kind: "map", ...common, key: key.id, elem: elem.id };
        break;
      }
      case "slice": {
        const elem = this.#build(node.elem, goName(baseOf(node.elem)));
        this.#setId(entry);
        this.#setId(elem);
        entry.def = { kind: "slice", ...common, elem: elem.id };
        break;
      }
      case "struct": {
        this.#setId(entry);
        const fields = node.fields.map((field) => {
          const base = baseOf(field.type);
          const typeName = goName(base) || goString(base);
          const built = this.#build(field.type, typeName);
          this.#setId(built);
          return { name: field.name, id: built.id };
        });
        entry.def = { kind: "struct", ...common, fields };
        break;
      }
    }
    return entry;
  }

  /**
   * Go's getTypeInfo: the id values of `type` are sent under and its definition. For a type that
   * marshals itself reached through a pointer, Go builds a second entry for the pointer type and
   * puts its id (and empty name) in the definition: mirrored.
   */
  #info(type: GoType): Info {
    const base = baseOf(type);
    const user = base.kind === "opaque" ? type : base;
    const key = typeKey(user);
    const known = this.#infos.get(key);
    if (known !== undefined) return known;
    const entry = this.#build(user, goName(user));
    let def = entry.def;
    if (base.kind === "opaque" && user !== base) {
      const userKey = typeKey(user);
      let userEntry = this.#types.get(userKey);
      if (userEntry === undefined) {
        userEntry = { id: 0, name: "", node: user };
        this.#setId(userEntry);
        this.#types.set(userKey, userEntry);
      }
      def = {
        kind: "opaque",
        name: userEntry.name,
        commonId: userEntry.id,
        marshaler: base.marshaler,
      };
    }
    const info = { id: entry.id, def: def && { ...def, commonId: def.commonId || entry.id } };
    this.#infos.set(key, info);
    return info;
  }

  #markSent(key: string, id: number): void {
    this.#sent.set(key, id);
    this.#pending.push(key);
  }

  /**
   * Go's sendTypeDescriptor: each definition `type` needs that this stream has not sent is
   * written into `state` and flushed to `writer` as one message. (`state` may hold part of a
   * value already, when an interface meets a new type: Go flushes that part with it.)
   */
  sendDescriptor(writer: GobWriter, state: GobWriter, type: GoType): void {
    const base = baseOf(type);
    const key = typeKey(base.kind === "opaque" ? type : base);
    if (this.#sent.has(key)) return;
    if (!this.#sendType(writer, state, type)) this.#markSent(key, this.#info(type).id);
  }

  #sendType(writer: GobWriter, state: GobWriter, type: GoType): boolean {
    const base = baseOf(type);
    switch (base.kind) {
      case "opaque":
      case "slice":
      case "array":
      case "map":
      case "struct":
        return this.#sendActual(writer, state, type, base);
      default:
        return false;
    }
  }

  #sendActual(writer: GobWriter, state: GobWriter, type: GoType, base: GoType): boolean {
    const baseKey = typeKey(base);
    if (this.#sent.has(baseKey)) return false;
    const info = this.#info(type);
    state.int(-info.id);
    writeWireType(state, info.def!);
    writer.message(state);
    this.#markSent(baseKey, info.id);
    if (type !== base) this.#markSent(typeKey(type), info.id);
    switch (base.kind) {
      case "struct":
        for (const field of base.fields) this.#sendType(writer, state, field.type);
        break;
      case "array":
      case "slice":
        this.#sendType(writer, state, base.elem);
        break;
      case "map":
        this.#sendType(writer, state, base.key);
        this.#sendType(writer, state, base.elem);
        break;
    }
    return true;
  }

  /** The id a value of `type` is sent under (after `sendDescriptor`). */
  idOf(type: GoType): number {
    return this.#sent.get(typeKey(baseOf(type)))!;
  }

  /** Starts an encode: what it marks sent is undone by `abort`. */
  begin(): void {
    this.#pending = [];
  }

  /** The encode failed and its bytes are dropped: the definitions it wrote were never sent. */
  abort(): void {
    for (const key of this.#pending) this.#sent.delete(key);
    this.#pending = [];
  }
}
