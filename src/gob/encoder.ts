// One outgoing gob stream (Go's gob.Encoder): each `encode` returns the bytes to write, the type
// definitions the stream has not sent yet first. Interface values follow Go's writer stack
// (encoder.go, encode.go encodeInterface) so the bytes are Go's, message boundaries included.
import { PluginError } from "../errors/plugin-error.ts";
import type { EncodeContext } from "./encode-value.ts";
import { writeTop } from "./encode-value.ts";
import { EncoderTypes } from "./encoder-types.ts";
import { gobTypeError, underPath } from "./errors.ts";
import { GobTypeRegistry } from "./type-registry.ts";
import type { GoType } from "./types.ts";
import { GobWriter } from "./wire-ints.ts";

/** Options of a GobEncoder. */
export interface GobEncoderOptions {
  /**
   * Where interface values given without a `type` find theirs, by name. Default: a registry with
   * Go's predefined names only.
   */
  readonly registry?: GobTypeRegistry | undefined;
}

/**
 * Encodes values for one gob stream, as Go's `gob.NewEncoder(w)`: keep one per connection
 * direction, since type definitions are sent once per stream.
 *
 * ```ts
 * const enc = new GobEncoder();
 * socket.write(enc.encode(Manifest, { Name: "kv", Version: "1", Tags: [], Meta: new Map() }));
 * ```
 */
export class GobEncoder {
  readonly #types = new EncoderTypes();
  readonly #registry: GobTypeRegistry;
  /** Go's enc.w: where definitions go; an interface value pushes its enclosing buffer. */
  readonly #writers: GobWriter[] = [];
  /** Reused between encodes: what `encode` returns is a copy. */
  readonly #out = new GobWriter();
  readonly #state = new GobWriter();
  readonly #context: EncodeContext = {
    interfaceValue: (b, value) => this.#interface(b, value),
  };

  constructor(options: GobEncoderOptions = {}) {
    this.#registry = options.registry ?? new GobTypeRegistry();
  }

  /**
   * The bytes of `value` as a `type`: the type definitions this stream has not sent, then the
   * value. A value that does not fit `type` is GOB_TYPE naming the field; nothing of it counts as
   * sent, so the stream stays usable.
   */
  encode<T>(type: GoType<T>, value: T): Uint8Array {
    const out = this.#out;
    const state = this.#state;
    out.reset();
    state.reset();
    this.#writers.length = 0;
    this.#writers.push(out);
    this.#types.begin();
    try {
      this.#types.sendDescriptor(out, state, type);
      state.int(this.#types.idOf(type));
      writeTop(this.#context, state, type, value);
      out.message(state);
      return out.take();
    } catch (error) {
      this.#types.abort();
      if (error instanceof PluginError) throw underPath(error, goPath(type));
      if (error instanceof RangeError)
        throw gobTypeError(goPath(type), "nests too deeply to encode (a cycle in the value?)");
      throw error;
    }
  }

  #interface(b: GobWriter, value: unknown): void {
    if (value === null || value === undefined) {
      b.uint(0); // the nil interface
      return;
    }
    if (typeof value !== "object" || typeof (value as { name?: unknown }).name !== "string")
      throw gobTypeError("", "expected an interface value { name, value, type? } or null");
    const iv = value as { name: string; value: unknown; type?: GoType };
    if (iv.name === "") throw gobTypeError("", "has an empty concrete type name (nil is null)");
    const type = iv.type ?? this.#registry.lookup(iv.name);
    if (type === undefined)
      throw gobTypeError(
        "",
        `holds ${iv.name}, which is not registered: pass its type or register it`,
      );
    if (type.kind === "ptr" && (iv.value === null || iv.value === undefined))
      throw gobTypeError("", `holds a nil ${iv.name}, which gob cannot send`);
    b.string(iv.name);
    this.#types.sendDescriptor(this.#writers.at(-1)!, b, type);
    b.int(this.#types.idOf(type));
    this.#writers.push(b);
    const data = new GobWriter();
    try {
      writeTop(this.#context, data, type, iv.value);
    } catch (error) {
      throw underPath(error, `(${iv.name})`);
    } finally {
      this.#writers.pop();
    }
    b.message(data);
  }
}

function goPath(type: GoType): string {
  return type.kind === "struct" && type.name !== "" ? type.name : "value";
}
