// gob's numbers on the wire (encoding/gob doc.go): an unsigned integer below 128 is one byte;
// a larger one is its byte count, negated, then its big-endian bytes. Signed integers fold the
// sign into bit 0 (bit 0 set: the complement of the rest). Floats are their IEEE 754 bits with
// the bytes reversed, sent as an unsigned integer, so small integral floats are short.
import { gobInvalid } from "./errors.ts";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const two32 = 2 ** 32;
// One scratch for every reader and writer: JS runs one of them at a time, and none keeps it.
const scratch = new DataView(new ArrayBuffer(8));

/** A growable byte buffer the encoder writes gob numbers, strings and bytes into. */
export class GobWriter {
  #bytes = new Uint8Array(64);
  #length = 0;
  get length(): number {
    return this.#length;
  }

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
  }

  byte(b: number): void {
    this.#room(1);
    this.#bytes[this.#length++] = b;
  }

  /** An unsigned integer: a number (a safe integer, ≥ 0) or a bigint below 2⁶⁴. */
  uint(x: number | bigint): void {
    if (typeof x === "number" && x < 128) {
      this.byte(x);
      return;
    }
    if (typeof x === "number" && x < two32) {
      this.#uintBytes(0, x >>> 0);
      return;
    }
    const big = BigInt(x);
    this.#uintBytes(Number(big >> 32n), Number(big & 0xffffffffn));
  }

  #uintBytes(hi: number, lo: number): void {
    scratch.setUint32(0, hi);
    scratch.setUint32(4, lo);
    this.#minimal(0);
  }

  /** Writes scratch[from..8] as a gob uint, dropping leading zero bytes. */
  #minimal(from: number): void {
    let start = from;
    while (start < 8 && scratch.getUint8(start) === 0) start++;
    const n = 8 - start;
    if (n === 0) {
      this.byte(0);
      return;
    }
    const first = scratch.getUint8(start);
    if (n === 1 && first < 128) {
      this.byte(first);
      return;
    }
    this.#room(n + 1);
    this.#bytes[this.#length++] = 256 - n;
    for (let i = start; i < 8; i++) this.#bytes[this.#length++] = scratch.getUint8(i);
  }

  /** A signed integer: a number (a safe integer) or a bigint in the int64 range. */
  int(i: number | bigint): void {
    if (typeof i === "number" && i >= -0x40000000 && i < 0x40000000) {
      this.uint(i < 0 ? -2 * i - 1 : 2 * i);
      return;
    }
    const big = BigInt(i);
    this.uint(big < 0n ? (-big << 1n) - 1n : big << 1n);
  }

  /** A float64 (a float32 is widened first, as Go does). */
  float(f: number): void {
    // Reversed bytes: the wire's big-endian uint is the float's little-endian bytes.
    scratch.setFloat64(0, f, true);
    this.#minimal(0);
  }

  bytes(b: Uint8Array): void {
    this.uint(b.byteLength);
    this.raw(b);
  }

  string(s: string): void {
    const n = s.length;
    if (n < 128) {
      // Short ASCII, the common case, without an intermediate buffer.
      this.#room(n + 1);
      const at = this.#length;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.#bytes[at + 1 + i] = c;
      }
      if (i === n) {
        this.#bytes[at] = n;
        this.#length = at + 1 + n;
        return;
      }
    }
    this.bytes(utf8.encode(s));
  }

  raw(b: Uint8Array): void {
    this.#room(b.byteLength);
    this.#bytes.set(b, this.#length);
    this.#length += b.byteLength;
  }

  /** Appends `message` as one gob message (its byte count, then its bytes) and empties it. */
  message(message: GobWriter): void {
    const n = message.#length;
    this.uint(n);
    this.#room(n);
    const from = message.#bytes;
    const to = this.#bytes;
    const at = this.#length;
    if (n <= 64) for (let i = 0; i < n; i++) to[at + i] = from[i]!;
    else to.set(from.subarray(0, n), at);
    this.#length = at + n;
    message.reset();
  }

  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** A copy of what was written, which later writes do not change. */
  take(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  reset(): void {
    this.#length = 0;
  }
}

/**
 * A cursor over one gob message's bytes. Every read checks what is left, so a hostile length is
 * an error before anything is allocated for it.
 */
export class GobReader {
  bytes: Uint8Array;
  pos: number;
  end: number;
  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #byte(): number {
    if (this.pos >= this.end) throw gobInvalid("unexpected end of message");
    return this.bytes[this.pos++]!;
  }

  /** An unsigned integer: a number when it is a safe integer, a bigint otherwise. */
  uint(): number | bigint {
    const b = this.#byte();
    if (b < 128) return b;
    const n = 256 - b;
    if (n > 8) throw gobInvalid(`an unsigned integer of ${n} bytes (at most 8)`);
    if (n > this.remaining) throw gobInvalid("unexpected end of message in an integer");
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.pos++]!;
      hi = ((hi << 8) | (lo >>> 24)) >>> 0;
      lo = ((lo << 8) | byte) >>> 0;
    }
    if (hi < 0x200000) return hi * two32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A count or length: an unsigned integer that must be a safe integer. */
  count(what: string): number {
    const n = this.uint();
    if (typeof n !== "number") throw gobInvalid(`${what} ${n} is too large`);
    return n;
  }

  /** A signed integer: a number when it is a safe integer, a bigint otherwise. */
  int(): number | bigint {
    const x = this.uint();
    if (typeof x === "number") {
      // x / 2 is exact for x < 2^53; odd x is the complement of the rest.
      return x % 2 === 1 ? -(x - 1) / 2 - 1 : x / 2;
    }
    const v = x & 1n ? -(x >> 1n) - 1n : x >> 1n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  }

  /** A float64. */
  float(): number {
    const b = this.#byte();
    const view = scratch;
    view.setBigUint64(0, 0n);
    if (b < 128) {
      view.setUint8(7, b);
    } else {
      const n = 256 - b;
      if (n > 8) throw gobInvalid(`a float of ${n} bytes (at most 8)`);
      if (n > this.remaining) throw gobInvalid("unexpected end of message in a float");
      for (let i = 0; i < n; i++) view.setUint8(8 - n + i, this.bytes[this.pos++]!);
    }
    return view.getFloat64(0, true);
  }

  /** `n` bytes, as a view into the message (copy it to keep it). */
  take(n: number, what: string): Uint8Array {
    if (n > this.remaining)
      throw gobInvalid(`${what} of ${n} bytes is longer than the ${this.remaining} left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed byte string, copied. */
  byteString(what: string): Uint8Array {
    return this.take(this.count(what), what).slice();
  }

  /** A length-prefixed string; bytes that are not UTF-8 become U+FFFD. */
  string(what: string): string {
    return this.text(this.count(what), what);
  }

  /** `n` bytes as a string. */
  text(n: number, what: string): string {
    if (n > this.remaining)
      throw gobInvalid(`${what} of ${n} bytes is longer than the ${this.remaining} left`);
    if (n <= 32) {
      // Short ASCII, the common case, without TextDecoder's fixed cost.
      const bytes = this.bytes;
      const at = this.pos;
      let out = "";
      let i = 0;
      for (; i < n; i++) {
        const b = bytes[at + i]!;
        if (b >= 0x80) break;
        out += String.fromCharCode(b);
      }
      if (i === n) {
        this.pos = at + n;
        return out;
      }
    }
    return utf8Decoder.decode(this.take(n, what));
  }
}
