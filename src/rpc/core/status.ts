/**
 * gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), as an erasable
 * `as const` map plus derived names, so no TypeScript `enum` is needed.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The name of a gRPC status other than OK, e.g. `"UNAVAILABLE"`. */
export type GrpcStatusName = Exclude<keyof typeof GrpcStatus, "OK">;

const namesByNumber: ReadonlyArray<keyof typeof GrpcStatus> = Object.keys(GrpcStatus) as Array<
  keyof typeof GrpcStatus
>;

/** The name of a numeric gRPC status; unknown numbers map to `"UNKNOWN"` as the spec asks. */
export function grpcStatusName(status: number): GrpcStatusName {
  const name = namesByNumber[status];
  return name === undefined || name === "OK" ? "UNKNOWN" : name;
}

/**
 * gRPC transmits `grpc-message` percent-encoded (spec: PROTOCOL-HTTP2, "Status-Message"): bytes
 * outside 0x20–0x7E and `%` itself are escaped.
 */
export function encodeGrpcMessage(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeGrpcMessage(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // A peer sent an invalid escape; show it as it came rather than lose it.
    return text;
  }
}

/**
 * The HTTP/2 error codes gRPC uses to reset a stream (RFC 9113 §7), so that modules can name them
 * without loading node:http2 (it is loaded only when a gRPC connection is made).
 */
export const http2Codes = {
  NGHTTP2_NO_ERROR: 0,
  NGHTTP2_INTERNAL_ERROR: 2,
  NGHTTP2_CANCEL: 8,
} as const;
