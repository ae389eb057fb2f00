// What decoding one value needs: the stream's type definitions, the current message, and the
// way to the next one (an interface value that brings new types can continue in the next
// message: Go's decodeTypeSequence). Shared by the schema-less and the typed decoders.
import { gobInvalid } from "./errors.ts";
import type { GobTypeRegistry } from "./type-registry.ts";
import type { GoStructType, GoType } from "./types.ts";
import { GobReader } from "./wire-ints.ts";
import type { WireType } from "./wire-type.ts";
import { firstUserId, readWireType } from "./wire-type.ts";

/** Thrown (internally) when the value needs bytes not pushed yet; the decoder rolls back. */
export const needMore: unique symbol = Symbol("gob: need more bytes");

/** The bytes pushed and not consumed yet. */
export class StreamBuffer {
  bytes = new Uint8Array(0);
  pos = 0;
  end = 0;

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    if (this.pos === this.end) this.pos = this.end = 0;
    if (this.end + chunk.byteLength > this.bytes.length) {
      const live = this.end - this.pos;
      const needed = live + chunk.byteLength;
      if (needed <= this.bytes.length) {
        this.bytes.copyWithin(0, this.pos, this.end);
      } else {
        const next = new Uint8Array(Math.max(needed, this.bytes.length * 2, 4096));
        next.set(this.bytes.subarray(this.pos, this.end));
        this.bytes = next;
      }
      this.pos = 0;
      this.end = live;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.byteLength;
  }

  get buffered(): number {
    return this.end - this.pos;
  }
}

/** For each wire field, the schema field it fills (-1: skipped); `matched` if any does. */
export interface FieldMap {
  readonly to: Int32Array;
  readonly matched: boolean;
}

/** Per decoder: compatibility found so far, and each struct's wire-field to schema-field map. */
export class TypedCache {
  readonly compatible: Map<GoType, Map<number, boolean>> = new Map();
  readonly fieldMaps: Map<GoStructType, Map<number, FieldMap>> = new Map();

  clear(): void {
    this.compatible.clear();
    this.fieldMaps.clear();
  }
}

export interface DecodeLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
}

/** One attempt at decoding the next value; `added` lists the definitions it received. */
export class DecodeSession {
  readonly wire: Map<number, WireType>;
  readonly stream: StreamBuffer;
  readonly limits: DecodeLimits;
  readonly registry: GobTypeRegistry;
  readonly typed: TypedCache;
  /** The current message (Go's dec.buf); `nextMessage` refills the same object. */
  readonly r = new GobReader(new Uint8Array(0));
  readonly added: number[] = [];
  depth = 0;

  /** Ready for another attempt (one session serves a decoder's every attempt). */
  reset(): this {
    this.added.length = 0;
    this.depth = 0;
    return this;
  }

  constructor(
    wire: Map<number, WireType>,
    stream: StreamBuffer,
    limits: DecodeLimits,
    registry: GobTypeRegistry,
    typed: TypedCache,
  ) {
    this.typed = typed;
    this.wire = wire;
    this.stream = stream;
    this.limits = limits;
    this.registry = registry;
  }

  /** Loads the next whole message into `r`, or throws `needMore`. */
  nextMessage(): void {
    const s = this.stream;
    if (s.pos === s.end) throw needMore;
    const first = s.bytes[s.pos]!;
    const countBytes = first < 128 ? 1 : 257 - first;
    if (countBytes > 9) throw gobInvalid(`a message count of ${countBytes - 1} bytes (at most 8)`);
    if (s.end - s.pos < countBytes) throw needMore;
    const head = new GobReader(s.bytes, s.pos, s.end);
    const length = head.uint();
    if (typeof length !== "number" || length > this.limits.maxMessageBytes)
      throw gobInvalid(
        `a message of ${length} bytes is over the limit of ${this.limits.maxMessageBytes} (maxMessageBytes)`,
        { length: String(length), maxMessageBytes: this.limits.maxMessageBytes },
      );
    if (head.remaining < length) throw needMore;
    if (length === 0) throw gobInvalid("an empty message");
    this.r.bytes = s.bytes;
    this.r.pos = head.pos;
    this.r.end = head.pos + length;
    s.pos = head.pos + length;
  }

  /** Reads the definition of type `id` from the current message. */
  recvType(id: number): void {
    if (id < firstUserId) throw gobInvalid(`a definition of reserved type id ${id}`);
    if (this.wire.has(id)) throw gobInvalid(`type id ${id} is defined twice`);
    const { commonId: _, ...def } = readWireType(this.r);
    this.wire.set(id, def);
    this.added.push(id);
  }

  /** A signed type id from the current message. */
  typeId(): number {
    const id = this.r.int();
    if (typeof id !== "number" || id < -0x80000000 || id > 0x7fffffff)
      throw gobInvalid(`type id ${id} is out of range`);
    return id;
  }

  /** Enters one level of nesting; the limit keeps hostile input off the call stack's end. */
  enter(): void {
    if (++this.depth > this.limits.maxDepth)
      throw gobInvalid(`values nest deeper than ${this.limits.maxDepth} levels (maxDepth)`);
  }

  leave(): void {
    this.depth--;
  }
}
