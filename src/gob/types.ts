// The schema: Go types declared in TypeScript. Each builder returns a plain descriptor tagged by
// `kind`; the phantom `GoType<T>` parameter carries the JS value type, so `GoValue<typeof X>` is
// inferred from a declaration instead of being written twice.
import { bigIntCodec } from "./big-int.ts";
import { gobTypeError } from "./errors.ts";
import type { GoMarshaler, GoOpaqueCodec } from "./opaque-codec.ts";
import type { GoTime } from "./time.ts";
import { timeCodec } from "./time.ts";

export type { GoMarshaler, GoOpaqueCodec } from "./opaque-codec.ts";

/** The basic kinds, named as Go names them (`bytes` is Go's `[]byte`). */
export type GoBasicKind =
  | "bool"
  | "int"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "uintptr"
  | "float32"
  | "float64"
  | "complex64"
  | "complex128"
  | "string"
  | "bytes";

/** One field of a struct type, in declaration order. */
export interface GoField {
  readonly name: string;
  readonly type: GoType;
}

export type GoTypeNode =
  | { readonly kind: GoBasicKind; readonly name?: string | undefined }
  | { readonly kind: "interface"; readonly name?: string | undefined }
  | {
      readonly kind: "struct";
      /** Go's `reflect.Type.String()` form, `pkg.Name`; "" for an anonymous struct. */
      readonly name: string;
      /** The fields, in order (resolved lazily for recursive types). */
      readonly fields: readonly GoField[];
    }
  | { readonly kind: "slice"; readonly elem: GoType; readonly name?: string | undefined }
  | {
      readonly kind: "array";
      readonly elem: GoType;
      readonly length: number;
      readonly name?: string | undefined;
    }
  | {
      readonly kind: "map";
      readonly key: GoType;
      readonly elem: GoType;
      readonly name?: string | undefined;
    }
  | { readonly kind: "ptr"; readonly elem: GoType; readonly name?: string | undefined }
  | {
      readonly kind: "opaque";
      readonly name: string;
      readonly marshaler: GoMarshaler;
      readonly codec: GoOpaqueCodec<unknown>;
    };

/**
 * A Go type, carrying the JS type `T` of its values (`GoValue<typeof type>`). The `~goValue` key
 * exists only in types, never at run time; a string key (not a symbol) keeps schemas exported
 * from other modules nameable in their declaration files.
 */
export type GoType<T = unknown> = GoTypeNode & { readonly "~goValue"?: T };

/** A struct type (`go.struct`). */
export type GoStructType = Extract<GoType, { readonly kind: "struct" }>;

/** The JS type of a Go type's values. */
export type GoValue<G extends GoType> = G extends GoType<infer T> ? T : never;

/** A Go complex number. */
export interface GoComplex {
  readonly real: number;
  readonly imag: number;
}

/** A non-nil interface value: the concrete type's registered name and its value. */
export interface GoInterfaceValue {
  /** The name the concrete type is registered under (`gob.Register`), e.g. "main.Foo" or "int". */
  readonly name: string;
  /** The concrete value. */
  readonly value: unknown;
  /** The concrete type, for encoding; without it the encoder's registry is asked for `name`. */
  readonly type?: GoType | undefined;
}

/** Go's `interface{}`: null is the nil interface. */
export type GoInterface = GoInterfaceValue | null;

/** The JS value of a struct with fields `F`. */
export type StructValue<F extends Record<string, GoType>> = {
  -readonly [K in keyof F]: GoValue<F[K]>;
};

/** The JS value of a slice or array of `E` (`Uint8Array` for bytes). */
export type ElemValue<E extends GoType> = E extends { readonly kind: "uint8" }
  ? Uint8Array
  : GoValue<E>[];

/** The kind of every node, for the exhaustive switches. */
export type GoKind = GoTypeNode["kind"];

function basic<T, K extends GoBasicKind = GoBasicKind>(kind: K): GoType<T> & { readonly kind: K } {
  return Object.freeze({ kind }) as GoType<T> & { readonly kind: K };
}

/** Go type names as a field or map sees them: exported identifiers start with an upper-case letter. */
export function isExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

function struct<const F extends Record<string, GoType>>(
  name: string,
  fields: F | (() => F),
): GoType<StructValue<F>> {
  let resolved: readonly GoField[] | undefined;
  const resolve = (): readonly GoField[] => {
    if (resolved !== undefined) return resolved;
    const given = typeof fields === "function" ? fields() : fields;
    const list: GoField[] = [];
    for (const [field, type] of Object.entries(given)) {
      if (!isExported(field))
        throw gobTypeError(
          `${name || "struct"}.${field}`,
          "is not an exported Go field (gob never carries unexported fields): start it with a capital letter",
        );
      if (type === undefined || typeof type !== "object" || typeof type.kind !== "string")
        throw gobTypeError(`${name || "struct"}.${field}`, "has no Go type (a go.* builder)");
      list.push(Object.freeze({ name: field, type }));
    }
    resolved = Object.freeze(list);
    return resolved;
  };
  if (typeof fields !== "function") resolve();
  const node = { kind: "struct" as const, name };
  Object.defineProperty(node, "fields", { get: resolve, enumerable: true });
  return Object.freeze(node) as unknown as GoType<StructValue<F>>;
}

function slice<E extends GoType>(elem: E): GoType<ElemValue<E>> {
  // Go sends any slice of a uint8 kind (named or not) as []byte.
  if (elem.kind === "uint8") return bytesType as GoType<ElemValue<E>>;
  return Object.freeze({ kind: "slice", elem }) as GoType<ElemValue<E>>;
}

function array<E extends GoType>(elem: E, length: number): GoType<ElemValue<E>> {
  if (!Number.isSafeInteger(length) || length < 0)
    throw gobTypeError("array", `length ${length} is not a non-negative integer`);
  return Object.freeze({ kind: "array", elem, length }) as GoType<ElemValue<E>>;
}

function map<K extends GoType, V extends GoType>(
  key: K,
  elem: V,
): GoType<Map<GoValue<K>, GoValue<V>>> {
  return Object.freeze({ kind: "map", key, elem }) as GoType<Map<GoValue<K>, GoValue<V>>>;
}

function ptr<E extends GoType>(elem: E): GoType<GoValue<E> | null> {
  return Object.freeze({ kind: "ptr", elem }) as GoType<GoValue<E> | null>;
}

/**
 * A named Go type over another (`type Celsius float64`, `type Tags []string`): the wire is the
 * underlying type's; the name is what gob sends in type definitions and what interface
 * registration uses. `name` is Go's `pkg.Name` form.
 */
function named<T>(name: string, type: GoType<T>): GoType<T> {
  if (type.kind === "struct" || type.kind === "opaque")
    throw gobTypeError(name, "struct and opaque types are named by their own builder");
  if (type.kind === "ptr")
    throw gobTypeError(name, "a named pointer type cannot be carried by gob");
  return Object.freeze({ ...type, name }) as GoType<T>;
}

/**
 * A type that marshals itself (GobEncoder, BinaryMarshaler or TextMarshaler): gob carries its
 * bytes. Without a codec the JS value is the bytes (Uint8Array).
 */
function opaque<T = Uint8Array>(
  name: string,
  marshaler: GoMarshaler,
  codec?: GoOpaqueCodec<T>,
): GoType<T> {
  return Object.freeze({
    kind: "opaque",
    name,
    marshaler,
    codec: (codec ?? bytesCodec) as GoOpaqueCodec<unknown>,
  }) as GoType<T>;
}

const bytesCodec: GoOpaqueCodec<Uint8Array> = {
  encode: (value) => value,
  decode: (bytes) => bytes,
  isZero: (value) => value.byteLength === 0,
  zero: () => new Uint8Array(0),
  accepts: (value) => value instanceof Uint8Array,
};

/** Go's `[]byte`, as a Uint8Array. */
export const bytesType: GoType<Uint8Array> = basic<Uint8Array>("bytes");

/**
 * The schema builders: `go.struct("main.Manifest", { Name: go.string, Tags: go.slice(go.string) })`.
 * `GoValue<typeof Manifest>` is the JS type of its values. See docs/gob.md for the mapping.
 */
export const go = {
  bool: basic<boolean>("bool"),
  /** Go's `int`: a JS number (a safe integer); use `int64` for the full 64-bit range. */
  int: basic<number>("int"),
  int8: basic<number>("int8"),
  int16: basic<number>("int16"),
  int32: basic<number>("int32"),
  /** The full 64-bit range, as a bigint. */
  int64: basic<bigint>("int64"),
  /** Go's `uint`: a JS number (a safe integer); use `uint64` for the full range. */
  uint: basic<number>("uint"),
  uint8: basic<number, "uint8">("uint8"),
  uint16: basic<number>("uint16"),
  uint32: basic<number>("uint32"),
  /** The full 64-bit range, as a bigint. */
  uint64: basic<bigint>("uint64"),
  uintptr: basic<bigint>("uintptr"),
  float32: basic<number>("float32"),
  float64: basic<number>("float64"),
  complex64: basic<GoComplex>("complex64"),
  complex128: basic<GoComplex>("complex128"),
  string: basic<string>("string"),
  bytes: bytesType,
  /** Go's `interface{}` (any interface type: gob carries them all alike). */
  interface: Object.freeze({ kind: "interface" }) as GoType<GoInterface>,
  struct,
  slice,
  array,
  map,
  ptr,
  named,
  opaque,
  /** Go's time.Time, as a GoTime (a GobEncoder on the wire). */
  time: opaque<GoTime>("time.Time", "gob", timeCodec),
  /** Go's math/big.Int, as a bigint; a `*big.Int` field is `go.ptr(go.bigInt)`. */
  bigInt: opaque<bigint>("big.Int", "gob", bigIntCodec),
};
