// JSON in and out of `plugwire call` for net/rpc methods: a JSON value as the Go value of a gob
// type (given with --args-type, or read off the JSON's shape), and a reply decoded without a
// schema (gob describes itself) as JSON.
import type { JsonValue } from "@bufbuild/protobuf";
import { GoTime, go } from "../gob/index.ts";
import type { GoType } from "../gob/types.ts";
import { zeroValue } from "../gob/zero.ts";
import { UsageError } from "./context.ts";
import { goTypeName, parseGoType } from "./go-type-syntax.ts";

const exported = /^\p{Lu}[\p{L}\p{N}_]*$/u;

/**
 * The Go type a JSON value reads as without --args-type: null is a nil `interface{}`, true a
 * `bool`, 3 an `int`, 2.5 a `float64`, "x" a `string`, an array a slice of its elements' type
 * (`float64` for integers and fractions mixed, `[]interface{}` when they differ), an object whose keys are all exported Go names a struct of
 * them, any other object a `map[string]T`.
 */
export function inferGoType(json: unknown): GoType {
  if (json === null) return go.interface;
  switch (typeof json) {
    case "boolean":
      return go.bool;
    case "number":
      return Number.isInteger(json) ? go.int : go.float64;
    case "string":
      return go.string;
  }
  if (Array.isArray(json)) return go.slice(common(json.map(inferGoType)));
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length > 0 && entries.every(([key]) => exported.test(key)))
    return go.struct("", Object.fromEntries(entries.map(([k, v]) => [k, inferGoType(v)])));
  return go.map(go.string, common(entries.map(([, v]) => inferGoType(v))));
}

function common(types: readonly GoType[]): GoType {
  const names = new Set(types.map(goTypeName));
  if (names.size === 1) return types[0]!;
  // [1, 2.5] are numbers alike: JSON does not tell 7 from 7.0.
  if (names.size === 2 && names.has("int") && names.has("float64")) return go.float64;
  return go.interface;
}

/**
 * A JSON value as a value of `type`, checked: `[]byte` is base64 (as protobuf's JSON has it),
 * 64-bit integers a number or a decimal string, `time.Time` an RFC 3339 string, a struct an
 * object of its field names (a missing field is its zero value). An `interface{}` takes a value
 * of the type its shape reads as, or `{"@type": "<Go type>", "value": …}` to say the type.
 */
export function fromJson(type: GoType, json: unknown, path = "args"): unknown {
  const wrong = (expected: string): never => {
    throw new UsageError(`${path}: expected ${expected}, got ${JSON.stringify(json)}`);
  };
  switch (type.kind) {
    case "bool":
      return typeof json === "boolean" ? json : wrong("true or false");
    case "int":
    case "int8":
    case "int16":
    case "int32":
    case "uint":
    case "uint8":
    case "uint16":
    case "uint32":
      return Number.isSafeInteger(json) ? json : wrong(`an integer (${type.kind})`);
    case "int64":
    case "uint64":
    case "uintptr":
      if (Number.isSafeInteger(json) || (typeof json === "string" && /^-?\d+$/.test(json)))
        return BigInt(json as number | string);
      return wrong(`an integer or a decimal string (${type.kind})`);
    case "float32":
    case "float64":
      return typeof json === "number" ? json : wrong("a number");
    case "complex64":
    case "complex128":
      if (typeof json === "number") return { real: json, imag: 0 };
      return isComplex(json) ? json : wrong('a number or {"real": …, "imag": …}');
    case "string":
      return typeof json === "string" ? json : wrong("a string");
    case "bytes":
      return typeof json === "string" && base64.test(json)
        ? new Uint8Array(Buffer.from(json, "base64"))
        : wrong("base64 text ([]byte)");
    case "ptr":
      return json === null ? null : fromJson(type.elem, json, path);
    case "interface":
      return interfaceValue(json, path);
    case "slice":
    case "array": {
      if (!Array.isArray(json)) return wrong(`an array (${goTypeName(type)})`);
      if (type.kind === "array" && json.length !== type.length)
        return wrong(`an array of ${type.length}`);
      return json.map((item, i) => fromJson(type.elem, item, `${path}[${i}]`));
    }
    case "map":
      if (!isObject(json)) return wrong(`an object (${goTypeName(type)})`);
      return new Map(
        Object.entries(json).map(([key, value]) => [
          fromJson(type.key, mapKey(type.key, key), `${path} key ${JSON.stringify(key)}`),
          fromJson(type.elem, value, `${path}[${JSON.stringify(key)}]`),
        ]),
      );
    case "struct":
      return structValue(type, json, path);
    case "opaque":
      return opaqueValue(type, json, path, wrong);
  }
}

const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

function isComplex(json: unknown): boolean {
  return isObject(json) && typeof json.real === "number" && typeof json.imag === "number";
}

/** JSON object keys are strings: a map's integer or bool keys are read from them. */
function mapKey(type: GoType, key: string): unknown {
  if (type.kind === "string") return key;
  if (type.kind === "bool") return key === "true" ? true : key === "false" ? false : key;
  return /^-?\d+(\.\d+)?$/.test(key) ? Number(key) : key;
}

function interfaceValue(json: unknown, path: string): unknown {
  if (json === null) return null;
  let type: GoType;
  let value: unknown = json;
  if (isObject(json) && typeof json["@type"] === "string") {
    type = parseGoType(json["@type"]);
    value = json.value;
  } else type = inferGoType(json);
  return { name: goTypeName(type), value: fromJson(type, value, path), type };
}

function structValue(type: Extract<GoType, { kind: "struct" }>, json: unknown, path: string) {
  if (!isObject(json))
    throw new UsageError(
      `${path}: expected an object (${goTypeName(type)}), got ${JSON.stringify(json)}`,
    );
  const names = new Set(type.fields.map((f) => f.name));
  const unknown = Object.keys(json).filter((key) => !names.has(key));
  if (unknown.length > 0)
    throw new UsageError(
      `${path}: ${goTypeName(type)} has no field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
    );
  const out: Record<string, unknown> = {};
  for (const field of type.fields)
    out[field.name] =
      field.name in json
        ? fromJson(field.type, json[field.name], `${path}.${field.name}`)
        : zeroValue(field.type);
  return out;
}

function opaqueValue(
  type: Extract<GoType, { kind: "opaque" }>,
  json: unknown,
  path: string,
  wrong: (expected: string) => never,
): unknown {
  if (type === go.time) {
    const date = typeof json === "string" ? new Date(json) : undefined;
    return date !== undefined && !Number.isNaN(date.getTime())
      ? GoTime.fromDate(date)
      : wrong("an RFC 3339 time");
  }
  if (type === go.bigInt)
    return Number.isSafeInteger(json) || (typeof json === "string" && /^-?\d+$/.test(json))
      ? BigInt(json as number | string)
      : wrong("an integer or a decimal string");
  return fromJson(go.bytes, json, path);
}

/**
 * A reply decoded without a schema, as JSON: `[]byte` base64, 64-bit integers beyond a double's
 * precision decimal strings, maps objects, `time.Time` its RFC 3339 text, an interface value the
 * value it holds.
 */
export function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof GoTime) return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map)
    return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v)]));
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  // An interface value ({ name, value }): struct fields are exported names, never these.
  if (keys.length === 2 && "name" in object && "value" in object) return toJson(object.value);
  return Object.fromEntries(keys.map((k) => [k, toJson(object[k])]));
}
