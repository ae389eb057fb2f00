// SSH wire encoding (RFC 4251 §5): uint32 big-endian and length-prefixed strings.

/** Reads SSH wire fields in order; any short read throws `TruncatedError`. */
export class SshReader {
  readonly #buffer: Buffer;
  #offset = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  bytes(length: number): Buffer {
    if (this.#offset + length > this.#buffer.length) throw new TruncatedError();
    const out = this.#buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.uint32());
  }

  text(): string {
    return this.string().toString("utf8");
  }

  /** What is left unread. */
  rest(): Buffer {
    return this.#buffer.subarray(this.#offset);
  }
}

/** A field ran past the end of its buffer. */
export class TruncatedError extends Error {
  constructor() {
    super("truncated");
  }
}

export function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

export function sshUint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}
