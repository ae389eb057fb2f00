// Go's math/big.Int as gob carries it: a GobEncoder whose bytes are a version-and-sign byte
// (version 1, shifted left, or 1 for negative) then the magnitude, big-endian, without leading
// zeros.
import { gobTypeError } from "./errors.ts";
import type { GoOpaqueCodec } from "./opaque-codec.ts";

const version = 1;

/** (*big.Int).GobEncode. */
export function marshalBigInt(value: bigint): Uint8Array {
  let magnitude = value < 0n ? -value : value;
  const bytes: number[] = [];
  while (magnitude > 0n) {
    bytes.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  bytes.push((version << 1) | (value < 0n ? 1 : 0));
  return Uint8Array.from(bytes.reverse());
}

/** (*big.Int).GobDecode; empty bytes are zero, as in Go. */
export function unmarshalBigInt(bytes: Uint8Array, path = "big.Int"): bigint {
  if (bytes.byteLength === 0) return 0n;
  const head = bytes[0]!;
  if (head >> 1 !== version)
    throw gobTypeError(path, `does not decode as big.Int (encoding version ${head >> 1})`);
  let magnitude = 0n;
  for (let i = 1; i < bytes.byteLength; i++) magnitude = (magnitude << 8n) | BigInt(bytes[i]!);
  return head & 1 ? -magnitude : magnitude;
}

/** The opaque codec behind `go.bigInt`. */
export const bigIntCodec: GoOpaqueCodec<bigint> = {
  encode: (value) => marshalBigInt(value),
  decode: (bytes) => unmarshalBigInt(bytes),
  // A big.Int field is always sent (Go takes its address, which is never nil).
  isZero: () => false,
  zero: () => 0n,
  accepts: (value) => typeof value === "bigint",
};
