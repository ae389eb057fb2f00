import { protoInt64 } from "@bufbuild/protobuf";

/**
 * Protobuf's wire encoding into one buffer that is reused for every message this process
 * encodes; `take()` copies the result out into a small pooled `Buffer`.
 *
 * protobuf-es's `toBinary` builds a new `BinaryWriter` per message: a fresh 128-byte buffer, and
 * `finish()` slices the result out. A typed array over 64 bytes lives outside V8's heap, and each
 * costs ≈ 0.5 µs to make here (bench/encode.ts): two of them per message were a fifth
 * of a streaming call's CPU (docs/performance.md, decision 18). The encodings are protobuf-es's
 * own: the same checks and error messages, byte for byte the same output (proto-encode.test.ts).
 * Results are carved out of a shared 64 KiB slab, as `Buffer.allocUnsafe` does from its pool,
 * but as plain `Uint8Array`s (a `bytes` field decoded from one would otherwise be a Buffer).
 */
export class ProtoWriter {
  #buffer = new Uint8Array(1024);
  #view = new DataView(this.#buffer.buffer);
  #pos = 0;
  #slab = new ArrayBuffer(slabBytes);
  #slabUsed = 0;
  /** Where each open length-delimited field's payload starts (after its 1-byte length guess). */
  readonly #forks: number[] = [];

  /** The bytes written since the last `take()`, copied out; the writer starts over. */
  take(): Uint8Array {
    const size = this.#pos;
    let out: Uint8Array;
    if (size > slabBytes / 8) {
      out = this.#buffer.slice(0, size);
    } else {
      if (this.#slabUsed + size > slabBytes) {
        this.#slab = new ArrayBuffer(slabBytes);
        this.#slabUsed = 0;
      }
      out = new Uint8Array(this.#slab, this.#slabUsed, size);
      out.set(this.#buffer.subarray(0, size));
      // 8-byte aligned, as Buffer's pool: a later reader may view the bytes as wider numbers.
      this.#slabUsed = (this.#slabUsed + size + 7) & ~7;
    }
    this.#restart(); // every fork of a complete message was joined
    return out;
  }

  /** Drops what was written (after an error), and a buffer grown past 1 MiB. */
  reset(): void {
    this.#forks.length = 0;
    this.#restart();
  }

  #restart(): void {
    this.#pos = 0;
    if (this.#buffer.length > 1024 * 1024) this.#grow(0, 1024);
  }

  #ensure(bytes: number): void {
    const required = this.#pos + bytes;
    if (required > this.#buffer.length) {
      let length = this.#buffer.length * 2;
      while (length < required) length *= 2;
      this.#grow(this.#pos, length);
    }
  }

  #grow(keep: number, length: number): void {
    const buffer = new Uint8Array(length);
    buffer.set(this.#buffer.subarray(0, keep));
    this.#buffer = buffer;
    this.#view = new DataView(buffer.buffer);
  }

  /** Starts a length-delimited payload (a message); `join()` writes its length before it. */
  fork(): void {
    this.#ensure(1);
    this.#buffer[this.#pos++] = 0;
    this.#forks.push(this.#pos);
  }

  join(): void {
    const start = this.#forks.pop()!;
    const length = this.#pos - start;
    const prefix = varintSize(length);
    if (prefix > 1) {
      this.#ensure(prefix - 1);
      this.#buffer.copyWithin(start + prefix - 1, start, this.#pos);
    }
    this.#pos = start - 1;
    this.#varint32(length);
    this.#pos += length;
  }

  tag(fieldNo: number, wireType: number): void {
    this.#varint32(((fieldNo << 3) | wireType) >>> 0);
  }

  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buffer.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  uint32(value: number): void {
    assertUint32(value);
    this.#varint32(value >>> 0);
  }

  #varint32(value: number): void {
    this.#ensure(5);
    const buffer = this.#buffer;
    while (value > 0x7f) {
      buffer[this.#pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[this.#pos++] = value;
  }

  int32(value: number): void {
    assertInt32(value);
    const number = Number(value);
    if (number >= 0) {
      this.#varint32(number);
      return;
    }
    // Negative: sign-extended to 64 bits, ten bytes.
    this.#varint64(number | 0, -1);
  }

  sint32(value: number): void {
    assertInt32(value);
    const number = Number(value);
    this.#varint32(((number << 1) ^ (number >> 31)) >>> 0);
  }

  bool(value: boolean): void {
    this.#ensure(1);
    this.#buffer[this.#pos++] = value ? 1 : 0;
  }

  bytes(value: Uint8Array): void {
    this.uint32(value.byteLength);
    this.raw(value);
  }

  string(value: string): void {
    const text = typeof value === "string" ? value : String(value);
    const length = text.length;
    // ASCII below 128 characters: one length byte, one byte per character.
    if (length < 128) {
      this.#ensure(length + 1);
      const buffer = this.#buffer;
      let pos = this.#pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0x7f) break;
        buffer[pos++] = code;
      }
      if (i === length) {
        buffer[this.#pos] = length;
        this.#pos = pos;
        return;
      }
    }
    const utf8 = textEncoder.encode(text);
    this.uint32(utf8.length);
    this.raw(utf8);
  }

  float(value: number): void {
    assertFloat32(value);
    this.#ensure(4);
    this.#view.setFloat32(this.#pos, Number(value), true);
    this.#pos += 4;
  }

  double(value: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, Number(value), true);
    this.#pos += 8;
  }

  fixed32(value: number): void {
    assertUint32(value);
    this.#ensure(4);
    this.#view.setUint32(this.#pos, Number(value), true);
    this.#pos += 4;
  }

  sfixed32(value: number): void {
    assertInt32(value);
    this.#ensure(4);
    this.#view.setInt32(this.#pos, Number(value), true);
    this.#pos += 4;
  }

  int64(value: Int64): void {
    const { lo, hi } = protoInt64.enc(value);
    this.#varint64(lo, hi);
  }

  uint64(value: Int64): void {
    const { lo, hi } = protoInt64.uEnc(value);
    this.#varint64(lo, hi);
  }

  sint64(value: Int64): void {
    const { lo, hi } = protoInt64.enc(value);
    const sign = hi >> 31;
    this.#varint64((lo << 1) ^ sign, ((hi << 1) | (lo >>> 31)) ^ sign);
  }

  fixed64(value: Int64): void {
    this.#fixed64(protoInt64.uEnc(value));
  }

  sfixed64(value: Int64): void {
    this.#fixed64(protoInt64.enc(value));
  }

  #fixed64({ lo, hi }: { lo: number; hi: number }): void {
    this.#ensure(8);
    this.#view.setInt32(this.#pos, lo, true);
    this.#view.setInt32(this.#pos + 4, hi, true);
    this.#pos += 8;
  }

  /** A 64-bit varint from its two 32-bit halves: seven bits a byte, low first. */
  #varint64(lo: number, hi: number): void {
    this.#ensure(10);
    const buffer = this.#buffer;
    let low = lo >>> 0;
    let high = hi >>> 0;
    while (high !== 0 || low > 0x7f) {
      buffer[this.#pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[this.#pos++] = low;
  }
}

type Int64 = bigint | string | number;

const textEncoder = new TextEncoder();
const slabBytes = 64 * 1024;

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    size++;
    value >>>= 7;
  }
  return size;
}

// The checks and messages are protobuf-es's (wire/binary-encoding.js), so a bad value fails
// the same way whichever encoder meets it.
function assertInt32(arg: unknown): void {
  const value = numberOf(arg, "int32");
  if (!Number.isInteger(value) || value > 0x7fffffff || value < -0x80000000)
    throw new Error(`invalid int32: ${value}`);
}

function assertUint32(arg: unknown): void {
  const value = numberOf(arg, "uint32");
  if (!Number.isInteger(value) || value > 0xffffffff || value < 0)
    throw new Error(`invalid uint32: ${value}`);
}

function assertFloat32(arg: unknown): void {
  if (typeof arg === "string") {
    const value = Number(arg);
    if (Number.isNaN(value) && arg !== "NaN") throw new Error(`invalid float32: ${arg}`);
    arg = value;
  } else if (typeof arg !== "number") {
    throw new Error(`invalid float32: ${typeof arg}`);
  }
  const value = arg as number;
  if (!Number.isFinite(Math.fround(value)) && Number.isFinite(value))
    throw new Error(`invalid float32: ${value}`);
}

function numberOf(arg: unknown, type: string): number {
  if (typeof arg === "string") return Number(arg);
  if (typeof arg !== "number") throw new Error(`invalid ${type}: ${typeof arg}`);
  return arg;
}
