// One incoming gob stream (Go's gob.Decoder), fed bytes as they arrive: `next` returns the next
// whole value, after the type definitions before it, or undefined until enough bytes are here.
import { PluginError } from "../errors/plugin-error.ts";
import { decodeTopAny } from "./decode-any.ts";
import type { DecodeLimits } from "./decode-state.ts";
import { DecodeSession, needMore, StreamBuffer, TypedCache } from "./decode-state.ts";
import { decodeTopTyped } from "./decode-typed.ts";
import { gobInvalid } from "./errors.ts";
import { GobTypeRegistry } from "./type-registry.ts";
import type { GoType, GoValue } from "./types.ts";
import type { WireType } from "./wire-type.ts";

/** Options of a GobDecoder. */
export interface GobDecoderOptions {
  /**
   * The longest message accepted, in bytes; a longer length is GOB_INVALID as soon as it is read,
   * before anything is buffered for it. Default 64 MiB.
   */
  readonly maxMessageBytes?: number | undefined;
  /** How deep values may nest (structs, slices, maps, interfaces). Default 1000. */
  readonly maxDepth?: number | undefined;
  /**
   * Concrete types of interface values, by name: a registered one is decoded as its type
   * (checked); any other as gob describes it. Default: Go's predefined names.
   */
  readonly registry?: GobTypeRegistry | undefined;
}

/** 64 MiB. */
export const defaultMaxMessageBytes = 64 * 1024 * 1024;

/**
 * Decodes one gob stream, as Go's `gob.NewDecoder(r)`: push bytes as they arrive, take values
 * with `next`. Without a type, values come out as gob describes them (docs/gob.md); with one,
 * they are checked against it and come out as its JS type.
 *
 * A malformed stream is GOB_INVALID, and every later call throws the same error. A value that
 * does not fit the type asked for is GOB_TYPE; the value is consumed and the stream goes on.
 */
export class GobDecoder {
  readonly #stream = new StreamBuffer();
  readonly #wire = new Map<number, WireType>();
  readonly #typed = new TypedCache();
  readonly #limits: DecodeLimits;
  readonly #registry: GobTypeRegistry;
  #failed: PluginError | undefined;

  constructor(options: GobDecoderOptions = {}) {
    const maxMessageBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    const maxDepth = options.maxDepth ?? 1000;
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1)
      throw new PluginError(
        "CONFIG_INVALID",
        `maxMessageBytes must be a positive integer, got ${maxMessageBytes}`,
      );
    if (!Number.isSafeInteger(maxDepth) || maxDepth < 1)
      throw new PluginError(
        "CONFIG_INVALID",
        `maxDepth must be a positive integer, got ${maxDepth}`,
      );
    this.#limits = { maxMessageBytes, maxDepth };
    this.#registry = options.registry ?? new GobTypeRegistry();
  }

  /** Bytes pushed and not yet consumed. */
  get bufferedBytes(): number {
    return this.#stream.buffered;
  }

  /** Adds bytes from the stream (kept until consumed; the decoder copies what it returns). */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    this.#stream.push(chunk);
  }

  /**
   * The next value, or undefined when its bytes are not all here. With `type`, the value is
   * checked and typed; a misfit is GOB_TYPE (the value is skipped, the stream stays usable).
   */
  next<T extends GoType>(type: T): { value: GoValue<T> } | undefined;
  next(type?: GoType): { value: unknown } | undefined;
  next(type?: GoType): { value: unknown } | undefined {
    if (this.#failed) throw this.#failed;
    try {
      const start = this.#definitions();
      if (start === undefined) return undefined;
      return this.#value(start, type);
    } catch (error) {
      if (error instanceof PluginError && error.code === "GOB_TYPE") throw error;
      this.#failed =
        error instanceof PluginError
          ? error
          : error instanceof RangeError
            ? gobInvalid("values nest too deeply for the call stack")
            : new PluginError(
                "INTERNAL",
                `gob decoder failed: ${(error as Error)?.message ?? error}`,
                {
                  cause: error,
                },
              );
      throw this.#failed;
    }
  }

  #sessionObject: DecodeSession | undefined;

  #session(): DecodeSession {
    this.#sessionObject ??= new DecodeSession(
      this.#wire,
      this.#stream,
      this.#limits,
      this.#registry,
      this.#typed,
    );
    return this.#sessionObject.reset();
  }

  /** Consumes whole type-definition messages; returns where the value's message starts. */
  #definitions(): number | undefined {
    for (;;) {
      const start = this.#stream.pos;
      const s = this.#session();
      try {
        s.nextMessage();
      } catch (error) {
        if (error === needMore) return undefined;
        throw error;
      }
      const id = s.typeId();
      if (id >= 0) {
        this.#stream.pos = start;
        return start;
      }
      s.recvType(-id);
      if (s.r.remaining > 0) throw gobInvalid("extra bytes after a type definition");
    }
  }

  #value(start: number, type: GoType | undefined): { value: unknown } | undefined {
    const attempt = (typed: GoType | undefined) => {
      const s = this.#session();
      try {
        s.nextMessage();
        const id = s.typeId();
        return { value: typed ? decodeTopTyped(s, id, typed) : decodeTopAny(s, id) };
      } catch (error) {
        this.#rollback(start, [...s.added]);
        throw error;
      }
    };
    try {
      return attempt(type);
    } catch (error) {
      if (error === needMore) return undefined;
      if (!(error instanceof PluginError) || error.code !== "GOB_TYPE" || type === undefined)
        throw error;
      // Misfit: read the same value without a schema, so the stream stays in step.
      try {
        attempt(undefined);
      } catch (again) {
        if (again === needMore) return undefined;
        throw again;
      }
      throw error;
    }
  }

  /** Undoes a failed attempt: its bytes are unread, its definitions unknown again. */
  #rollback(start: number, added: readonly number[]): void {
    this.#stream.pos = start;
    for (const id of added) this.#wire.delete(id);
    if (added.length > 0) this.#typed.clear();
  }
}
