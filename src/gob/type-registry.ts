// Names of concrete types carried in interfaces: Go's gob.Register. An interface value on the
// wire is its concrete type's registered name, then the value; the registry maps names to the
// declared types, so the encoder can find a value's type and a decoder can check one.
import { gobTypeError } from "./errors.ts";
import type { GoType } from "./types.ts";
import { go } from "./types.ts";

/** The names Go registers itself (encoding/gob registerBasics), and the types behind them. */
function basics(): Array<[string, GoType]> {
  const scalars: Array<[string, GoType]> = [
    ["int", go.int],
    ["int8", go.int8],
    ["int16", go.int16],
    ["int32", go.int32],
    ["int64", go.int64],
    ["uint", go.uint],
    ["uint8", go.uint8],
    ["uint16", go.uint16],
    ["uint32", go.uint32],
    ["uint64", go.uint64],
    ["float32", go.float32],
    ["float64", go.float64],
    ["complex64", go.complex64],
    ["complex128", go.complex128],
    ["uintptr", go.uintptr],
    ["bool", go.bool],
    ["string", go.string],
  ];
  const slices = scalars.map(([name, type]): [string, GoType] => [`[]${name}`, go.slice(type)]);
  return [
    ...scalars,
    ["[]uint8", go.bytes],
    ...slices.filter(([name]) => name !== "[]uint8"),
    // Not registered by Go itself, but by most programs that send generic values: Go's side has
    // to gob.Register them too (gob.Register([]interface{}{}), gob.Register(map[string]interface{}{})).
    ["[]interface {}", go.slice(go.interface)],
    ["map[string]interface {}", go.map(go.string, go.interface)],
  ];
}

/**
 * Registered concrete types, by name: `new GobTypeRegistry().register("main.Foo", Foo)`. A new
 * registry knows Go's predefined names ("int", "string", "[]string", …), plus "[]interface {}"
 * and "map[string]interface {}".
 */
export class GobTypeRegistry {
  readonly #byName = new Map<string, GoType>();

  constructor() {
    for (const [name, type] of basics()) this.#byName.set(name, type);
  }

  /**
   * Registers `type` under `name`, as Go's `gob.RegisterName(name, value)`; Go's `gob.Register`
   * uses "pkg/path.Name" for defined types ("main.Foo"), "*main.Foo" for pointers to them. Names
   * are one-to-one: registering another type under a taken name is GOB_TYPE.
   */
  register(name: string, type: GoType): this {
    if (name === "") throw gobTypeError("register", "needs a name (the empty name is nil)");
    const known = this.#byName.get(name);
    if (known !== undefined && known !== type)
      throw gobTypeError(name, "is already registered to another type");
    this.#byName.set(name, type);
    return this;
  }

  /** The type registered under `name`. */
  lookup(name: string): GoType | undefined {
    return this.#byName.get(name);
  }
}
