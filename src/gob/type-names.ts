// Go's names for types, as reflect gives them: `String()` (the full form, "[]main.Foo") and
// `Name()` (a defined type's bare name, "Foo"; "" for unnamed types). gob puts them in its type
// definitions, and the encoder keys its type table by them, as Go keys its own by reflect.Type.
import type { GoType } from "./types.ts";

const basicString: Record<string, string> = { bytes: "[]uint8" };

/** The type under any pointers (gob flattens pointers). */
export function baseOf(type: GoType): GoType {
  let t = type;
  while (t.kind === "ptr") t = t.elem;
  return t;
}

/** The bare name of a defined type ("Foo" for "main.Foo"); "" for an unnamed type. */
export function goName(type: GoType): string {
  if (type.kind === "ptr") return "";
  const name = type.name;
  if (name === undefined || name === "")
    return isBasic(type) && type.kind !== "bytes" ? type.kind : "";
  const dot = name.lastIndexOf(".");
  return dot < 0 ? name : name.slice(dot + 1);
}

function isBasic(type: GoType): boolean {
  return !["struct", "slice", "array", "map", "ptr", "opaque", "interface"].includes(type.kind);
}

/** reflect's `String()`: "main.Foo", "[]string", "map[string]int", "*main.Foo", "[4]uint8". */
export function goString(type: GoType): string {
  if (type.name !== undefined && type.name !== "") return type.name;
  switch (type.kind) {
    case "interface":
      return "interface {}";
    case "struct":
      return type.fields.length === 0
        ? "struct {}"
        : `struct { ${type.fields.map((f) => `${f.name} ${goString(f.type)}`).join("; ")} }`;
    case "slice":
      return `[]${goString(type.elem)}`;
    case "array":
      return `[${type.length}]${goString(type.elem)}`;
    case "map":
      return `map[${goString(type.key)}]${goString(type.elem)}`;
    case "ptr":
      return `*${goString(type.elem)}`;
    case "opaque":
      return type.name;
    default:
      return basicString[type.kind] ?? type.kind;
  }
}

const nodeIds = new WeakMap<object, number>();
let nextNodeId = 0;

/**
 * The identity of a Go type in the encoder's tables: its String() form, with each struct and
 * opaque node told apart by object identity, so two different declarations that share a name
 * never share a type id.
 */
export function typeKey(type: GoType): string {
  let key = keys.get(type);
  if (key === undefined) {
    key = computeKey(type);
    keys.set(type, key);
  }
  return key;
}

const keys = new WeakMap<GoType, string>();

function computeKey(type: GoType): string {
  switch (type.kind) {
    case "struct":
    case "opaque": {
      let id = nodeIds.get(type);
      if (id === undefined) {
        id = nextNodeId++;
        nodeIds.set(type, id);
      }
      return `${goString(type)}#${id}`;
    }
    case "slice":
      return `${type.name ?? ""}[]${typeKey(type.elem)}`;
    case "array":
      return `${type.name ?? ""}[${type.length}]${typeKey(type.elem)}`;
    case "map":
      return `${type.name ?? ""}map[${typeKey(type.key)}]${typeKey(type.elem)}`;
    case "ptr":
      return `*${typeKey(type.elem)}`;
    default:
      return goString(type);
  }
}
