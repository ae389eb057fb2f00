// A small Go type syntax for `plugwire call --args-type`: gob needs a type to encode, and a user
// at a terminal knows the Go signature. `string`, `[]int`, `map[string]interface{}`, `*T`,
// `[4]byte`, `struct{Key string; Value []byte}`, `time.Time`, `big.Int`.
import { go } from "../gob/index.ts";
import type { GoType } from "../gob/types.ts";
import { UsageError } from "./context.ts";

const basics: Readonly<Record<string, GoType>> = {
  bool: go.bool,
  int: go.int,
  int8: go.int8,
  int16: go.int16,
  int32: go.int32,
  rune: go.int32,
  int64: go.int64,
  uint: go.uint,
  uint8: go.uint8,
  byte: go.uint8,
  uint16: go.uint16,
  uint32: go.uint32,
  uint64: go.uint64,
  uintptr: go.uintptr,
  float32: go.float32,
  float64: go.float64,
  complex64: go.complex64,
  complex128: go.complex128,
  string: go.string,
  any: go.interface,
  "time.Time": go.time,
  "big.Int": go.bigInt,
};

/** Parses a Go type expression; a mistake is a UsageError naming where it is. */
export function parseGoType(text: string): GoType {
  const parser = new Parser(text);
  const type = parser.type();
  parser.end();
  return type;
}

class Parser {
  #at = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  type(): GoType {
    this.#space();
    if (this.#eat("[]")) return go.slice(this.type());
    if (this.#eat("*")) return go.ptr(this.type());
    if (this.#eat("[")) {
      const length = Number(this.#word(/\d+/, "an array length"));
      this.#expect("]");
      return go.array(this.type(), length);
    }
    if (this.#eat("map[")) {
      const key = this.type();
      this.#expect("]");
      return go.map(key, this.type());
    }
    if (this.#eat("interface")) {
      this.#expect("{");
      this.#expect("}");
      return go.interface;
    }
    if (this.#eat("struct")) return this.#struct();
    const name = this.#word(/[A-Za-z_][\w]*(\.[A-Za-z_]\w*)?/, "a type");
    const basic = basics[name];
    if (basic === undefined)
      this.#fail(
        `unknown type ${JSON.stringify(name)} (basic kinds, time.Time, big.Int, or spell a struct out: struct{A int; B string})`,
      );
    return basic;
  }

  end(): void {
    this.#space();
    if (this.#at < this.#text.length) this.#fail("unexpected text");
  }

  #struct(): GoType {
    this.#expect("{");
    const fields: Record<string, GoType> = {};
    for (;;) {
      this.#space();
      if (this.#eat("}")) break;
      const names = [this.#word(/[A-Za-z_]\w*/, "a field name")];
      while (this.#eat(",")) names.push(this.#word(/[A-Za-z_]\w*/, "a field name"));
      const type = this.type();
      for (const name of names) fields[name] = type;
      this.#space();
      if (!this.#eat(";") && !this.#peek("}")) this.#fail('expected ";" or "}"');
    }
    try {
      return go.struct("", fields);
    } catch (error) {
      return this.#fail((error as Error).message);
    }
  }

  #space(): void {
    while (/\s/.test(this.#text[this.#at] ?? "")) this.#at++;
  }

  #peek(token: string): boolean {
    return this.#text.startsWith(token, this.#at);
  }

  #eat(token: string): boolean {
    this.#space();
    if (!this.#peek(token)) return false;
    this.#at += token.length;
    return true;
  }

  #expect(token: string): void {
    if (!this.#eat(token)) this.#fail(`expected ${JSON.stringify(token)}`);
  }

  #word(pattern: RegExp, what: string): string {
    this.#space();
    const match = new RegExp(`^(?:${pattern.source})`).exec(this.#text.slice(this.#at));
    if (match === null) this.#fail(`expected ${what}`);
    this.#at += match[0].length;
    return match[0];
  }

  #fail(message: string): never {
    throw new UsageError(
      `--args-type ${JSON.stringify(this.#text)}: ${message} at offset ${this.#at}`,
    );
  }
}

/**
 * Go's name of a type as `reflect.Type.String()` spells it, which is what gob registers
 * interface values under (`[]uint8`, `map[string]interface {}`, `struct { A int }`).
 */
export function goTypeName(type: GoType): string {
  switch (type.kind) {
    case "bytes":
      return type.name ?? "[]uint8";
    case "interface":
      return type.name ?? "interface {}";
    case "slice":
      return type.name ?? `[]${goTypeName(type.elem)}`;
    case "array":
      return type.name ?? `[${type.length}]${goTypeName(type.elem)}`;
    case "map":
      return type.name ?? `map[${goTypeName(type.key)}]${goTypeName(type.elem)}`;
    case "ptr":
      return `*${goTypeName(type.elem)}`;
    case "struct":
      if (type.name !== "") return type.name;
      if (type.fields.length === 0) return "struct {}";
      return `struct { ${type.fields.map((f) => `${f.name} ${goTypeName(f.type)}`).join("; ")} }`;
    case "opaque":
      return type.name;
    default:
      return type.name ?? type.kind;
  }
}
