// Go's encoding/gob (the encoding of net/rpc and of go-plugin's net/rpc protocol), both ways:
// a schema to declare Go types in TypeScript, a stream encoder, and a streaming decoder that
// reads any gob stream with or without a schema. See docs/gob.md.

export { marshalBigInt, unmarshalBigInt } from "./big-int.ts";
export type { GobDecoderOptions } from "./decoder.ts";
export { defaultMaxMessageBytes, GobDecoder } from "./decoder.ts";
export type { GobEncoderOptions } from "./encoder.ts";
export { GobEncoder } from "./encoder.ts";
export { GoTime, marshalTime, unmarshalTime } from "./time.ts";
export { GobTypeRegistry } from "./type-registry.ts";
export type {
  ElemValue,
  GoBasicKind,
  GoComplex,
  GoField,
  GoInterface,
  GoInterfaceValue,
  GoKind,
  GoMarshaler,
  GoOpaqueCodec,
  GoStructType,
  GoType,
  GoTypeNode,
  GoValue,
  StructValue,
} from "./types.ts";
export { go } from "./types.ts";
export { zeroValue } from "./zero.ts";
