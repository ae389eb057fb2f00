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
