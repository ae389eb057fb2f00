import { HuffmanError, huffmanDecode } from "./huffman.ts";

/**
 * HPACK (RFC 7541) as a gRPC connection needs it. Decoding is complete: the peer's encoder may
 * use every representation, its dynamic table and Huffman strings (grpc-go indexes nearly every
 * field). Encoding never uses the dynamic table: our first header block sets its size to 0, and
 * every field is a literal without indexing (names from the static table when they are there),
 * so a block depends on nothing but its fields and can be built once and reused.
 */

// biome-ignore format: RFC 7541 Appendix A, one entry a line is easiest to check
const staticTable: ReadonlyArray<readonly [string, string]> = [
  ["", ""],
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"],
  [":path", "/index.html"], [":scheme", "http"], [":scheme", "https"], [":status", "200"],
  [":status", "204"], [":status", "206"], [":status", "304"], [":status", "400"],
  [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""],
  ["accept", ""], ["access-control-allow-origin", ""], ["age", ""], ["allow", ""],
  ["authorization", ""], ["cache-control", ""], ["content-disposition", ""],
  ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""],
  ["date", ""], ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""],
  ["if-match", ""], ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""],
  ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""], ["location", ""],
  ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""],
  ["via", ""], ["www-authenticate", ""],
];
const staticCount = staticTable.length - 1;

/** The first static index of each name (literals reference names by it). */
const staticNameIndex = new Map<string, number>();
for (let i = staticCount; i >= 1; i--) staticNameIndex.set(staticTable[i]![0], i);

/** A header block that cannot be decoded: HTTP/2's COMPRESSION_ERROR (a connection error). */
export class HpackError extends Error {}

const empty = Buffer.alloc(0);

/** Per-entry overhead of the dynamic table's size accounting (RFC 7541 §4.1). */
const entryOverhead = 32;

/**
 * Decodes header blocks with the connection's dynamic table. `maxTableBytes` is what this side
 * announced as SETTINGS_HEADER_TABLE_SIZE (4096 unless changed): the peer may size its table up
 * to it, never beyond.
 */
export class HpackDecoder {
  #limit: number;
  #maxBytes: number;
  #bytes = 0;
  // The dynamic table, oldest first from `#first`: the newest entry is HPACK's index 62.
  #names: string[] = [];
  #values: string[] = [];
  #first = 0;
  /** The block being decoded, and the cursor in it. */
  #block: Buffer = empty;
  #at = 0;

  constructor(maxTableBytes = 4096) {
    this.#limit = maxTableBytes;
    this.#maxBytes = maxTableBytes;
  }

  /** Entries in the dynamic table (for tests). */
  get tableLength(): number {
    return this.#names.length - this.#first;
  }

  /**
   * Decodes `block` into `out` as name, value, name, value…; throws HpackError. Stops with an
   * HpackError once the fields exceed `maxListBytes` (RFC 9113 §6.5.2 counts 32 bytes a field).
   * The block is read with a cursor kept on the decoder, so a field costs no allocation beyond
   * its strings.
   */
  decode(block: Buffer, out: string[], maxListBytes = Number.POSITIVE_INFINITY): void {
    this.#block = block;
    this.#at = 0;
    let listBytes = 0;
    let fields = false;
    const end = block.byteLength;
    while (this.#at < end) {
      const byte = block[this.#at]!;
      let name: string;
      let value: string;
      if (byte >= 0x80) {
        const index = this.#integer(7);
        name = this.#name(index);
        value = index <= staticCount ? staticTable[index]![1] : this.#dynamicValue(index);
      } else if (byte >= 0x40 || byte < 0x20) {
        // Literals: with incremental indexing (01), without (0000), never indexed (0001).
        const indexing = byte >= 0x40;
        const index = this.#integer(indexing ? 6 : 4);
        name = index === 0 ? this.#string() : this.#name(index);
        value = this.#string();
        if (indexing) this.#add(name, value);
      } else {
        // 001: a dynamic table size update, allowed only before the block's first field.
        if (fields) throw new HpackError("a table size update after a header field");
        const size = this.#integer(5);
        if (size > this.#limit)
          throw new HpackError(`table size ${size} over the limit of ${this.#limit}`);
        this.#maxBytes = size;
        this.#evict(0);
        continue;
      }
      fields = true;
      listBytes += name.length + value.length + entryOverhead;
      if (listBytes > maxListBytes) throw new HpackError("header list too large");
      out.push(name, value);
    }
    this.#block = empty;
  }

  /** The name at `index` of the static or dynamic table. */
  #name(index: number): string {
    if (index >= 1 && index <= staticCount) return staticTable[index]![0];
    return this.#names[this.#dynamicAt(index)]!;
  }

  #dynamicValue(index: number): string {
    return this.#values[this.#dynamicAt(index)]!;
  }

  #dynamicAt(index: number): number {
    const at = this.#names.length - 1 - (index - staticCount - 1);
    if (index === 0 || at < this.#first)
      throw new HpackError(`header index ${index} is not in the table`);
    return at;
  }

  /** An HPACK integer with a `prefixBits`-bit prefix at the cursor (RFC 7541 §5.1). */
  #integer(prefixBits: number): number {
    const block = this.#block;
    const max = (1 << prefixBits) - 1;
    let value = block[this.#at++]! & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.#at >= block.byteLength) throw new HpackError("an integer runs past the block");
      const byte = block[this.#at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
      // Nothing a header block holds needs more than 2^31; larger is an attack or garbage.
      if (shift > 28) throw new HpackError("an integer larger than 2^31");
    }
    if (value > 0x7fffffff) throw new HpackError("an integer larger than 2^31");
    return value;
  }

  /** A string literal at the cursor: H bit, 7-bit-prefix length, octets (RFC 7541 §5.2). */
  #string(): string {
    const block = this.#block;
    if (this.#at >= block.byteLength) throw new HpackError("a string runs past the block");
    const huffman = block[this.#at]! >= 0x80;
    const length = this.#integer(7);
    const start = this.#at;
    const end = start + length;
    if (end > block.byteLength) throw new HpackError("a string runs past the block");
    this.#at = end;
    if (!huffman) return block.toString("latin1", start, end);
    try {
      return huffmanDecode(block, start, end);
    } catch (error) {
      if (error instanceof HuffmanError) throw new HpackError(error.message);
      throw error;
    }
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + entryOverhead;
    if (size > this.#maxBytes) {
      // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
      this.#evict(this.#maxBytes);
      return;
    }
    this.#evict(size);
    this.#names.push(name);
    this.#values.push(value);
    this.#bytes += size;
  }

  /** Evicts the oldest entries until `room` more bytes fit. */
  #evict(room: number): void {
    while (this.#bytes + room > this.#maxBytes && this.#first < this.#names.length) {
      const at = this.#first++;
      this.#bytes -= this.#names[at]!.length + this.#values[at]!.length + entryOverhead;
    }
    if (this.#first > 64 && this.#first * 2 > this.#names.length) {
      this.#names = this.#names.slice(this.#first);
      this.#values = this.#values.slice(this.#first);
      this.#first = 0;
    }
  }
}

/** The first byte of our first header block on a connection: dynamic table size 0. */
export const tableSizeZero = Buffer.from([0x20]);

/**
 * One field as a literal without indexing (0000 prefix), its name from the static table when
 * there, strings as raw octets. `name` must be lower case; values are latin1 (gRPC's are ASCII).
 */
export function encodeField(name: string, value: string): Buffer {
  const nameIndex = staticNameIndex.get(name) ?? 0;
  const nameBytes = nameIndex === 0 ? name.length : 0;
  const size =
    integerLength(nameIndex, 4) +
    (nameIndex === 0 ? integerLength(nameBytes, 7) + nameBytes : 0) +
    integerLength(value.length, 7) +
    value.length;
  const out = Buffer.allocUnsafe(size);
  let at = writeInteger(out, 0, nameIndex, 4, 0);
  if (nameIndex === 0) {
    at = writeInteger(out, at, nameBytes, 7, 0);
    at += out.write(name, at, "latin1");
  }
  at = writeInteger(out, at, value.length, 7, 0);
  out.write(value, at, "latin1");
  return out;
}

/** A field fully indexed in the static table (`:method POST` is 3, `:status 200` is 8). */
export function encodeIndexed(index: number): Buffer {
  return Buffer.from([0x80 | index]);
}

function integerLength(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let length = 2;
  for (let rest = value - max; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}

function writeInteger(
  out: Buffer,
  at: number,
  value: number,
  prefixBits: number,
  flags: number,
): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[at] = flags | value;
    return at + 1;
  }
  out[at++] = flags | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}
