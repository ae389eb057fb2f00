import type { DescMessage } from "@bufbuild/protobuf";
import { create, ScalarType } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import { encodeProto } from "./proto-encode.ts";

/**
 * A protobuf message encoded as consecutive pieces: written one after the other they are the
 * message's wire form. Large `bytes` fields are pieces of their own, by reference.
 */
export type Encoded = readonly Uint8Array[];

/** `bytes` fields from this size on are not copied into the encoding (docs/performance.md). */
export const byReferenceBytes = 64 * 1024;

/** google.protobuf.FeatureSet.FieldPresence.IMPLICIT: a proto3 field without `optional`. */
const implicitPresence = 2;
const empty = new Uint8Array(0);

interface LargeCandidate {
  readonly localName: string;
  /** The field's tag as a varint (field number, wire type 2). */
  readonly tag: Uint8Array;
}

const candidatesBySchema = new WeakMap<DescMessage, readonly LargeCandidate[]>();

/** Top-level singular proto3 `bytes` fields: those can be sent by reference. */
function candidates(schema: DescMessage): readonly LargeCandidate[] {
  let found = candidatesBySchema.get(schema);
  if (found === undefined) {
    found = schema.fields
      .filter(
        (field) =>
          field.fieldKind === "scalar" &&
          field.scalar === ScalarType.BYTES &&
          field.oneof === undefined &&
          field.presence === implicitPresence,
      )
      .map((field) => ({
        localName: field.localName,
        tag: varint((field.number << 3) | 2),
      }));
    candidatesBySchema.set(schema, found);
  }
  return found;
}

/**
 * Encodes a message (or its init shape) for the wire and checks it against `maxBytes`.
 *
 * The rest goes through `encodeProto` (protobuf-es's encoding without a new writer per message,
 * proto-encode.ts). Any encoder that writes into a buffer copies a 16 MiB `bytes` field at least
 * twice, so fields of 64 KiB and more are left out of that encoding and appended as tag, length and the caller's own
 * bytes — valid protobuf, since fields may come in any order and an implicit-presence field left
 * empty is not written at all — so they reach the socket without any copy in JavaScript.
 */
export function encodeMessage(schema: DescMessage, init: unknown, maxBytes: number): Encoded {
  const message = create(schema, init as never) as unknown as Record<string, unknown>;
  let pieces: Uint8Array[] | undefined;
  let shallow: Record<string, unknown> | undefined;
  for (const field of candidates(schema)) {
    const value = message[field.localName];
    if (!(value instanceof Uint8Array) || value.byteLength < byReferenceBytes) continue;
    shallow ??= { ...message };
    shallow[field.localName] = empty;
    pieces ??= [empty];
    pieces.push(field.tag, varint(value.byteLength), value);
  }
  let encoded: Encoded;
  if (pieces === undefined) {
    encoded = [encodeProto(schema, message)];
  } else {
    pieces[0] = encodeProto(schema, shallow!);
    encoded = pieces;
  }
  const size = encodedSize(encoded);
  if (size > maxBytes) {
    throw new PluginError(
      "RESOURCE_EXHAUSTED",
      `trying to send message larger than max (${size} vs. ${maxBytes})`,
    );
  }
  return encoded;
}

export function encodedSize(encoded: Encoded): number {
  let size = 0;
  for (const piece of encoded) size += piece.byteLength;
  return size;
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value >>> 0;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}
