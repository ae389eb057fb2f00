// Go's zero values as JS values: what a struct field the stream left out decodes to, and what
// the encoder sends for a field given as undefined.
import type { GoType, GoValue } from "./types.ts";

/** The zero value of `type` (a nil pointer, map entry or interface is null; a nil slice is []). */
export function zeroValue<T extends GoType>(type: T): GoValue<T> {
  return zeroOf(type) as GoValue<T>;
}

function zeroOf(type: GoType): unknown {
  switch (type.kind) {
    case "bool":
      return false;
    case "int64":
    case "uint64":
    case "uintptr":
      return 0n;
    case "complex64":
    case "complex128":
      return { real: 0, imag: 0 };
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    case "interface":
    case "ptr":
      return null;
    case "struct": {
      const out: Record<string, unknown> = {};
      for (const field of type.fields) out[field.name] = zeroOf(field.type);
      return out;
    }
    case "slice":
      return [];
    case "array":
      return type.elem.kind === "uint8"
        ? new Uint8Array(type.length)
        : Array.from({ length: type.length }, () => zeroOf(type.elem));
    case "map":
      return new Map();
    case "opaque":
      return type.codec.zero();
    default:
      return 0;
  }
}
