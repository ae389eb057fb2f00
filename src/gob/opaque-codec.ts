// What an opaque Go type (one that marshals itself) needs in TypeScript: how it marshals and
// the codec between its JS value and its bytes. Apart from types.ts so the typed codecs
// (time.ts, big-int.ts) and the schema do not import each other.
/** How an opaque type marshals itself: GobEncoder, BinaryMarshaler or TextMarshaler. */
export type GoMarshaler = "gob" | "binary" | "text";

/** Turns an opaque type's JS value into its marshalled bytes and back. */
export interface GoOpaqueCodec<T> {
  encode(value: T, path: string): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** Whether `value` is the Go zero value (a zero struct field is then omitted, as Go does). */
  isZero(value: T): boolean;
  /** The zero value a missing field decodes to. */
  zero(): T;
  /** Whether `value` is this codec's JS value (checked before encoding). */
  accepts(value: unknown): boolean;
}
