import { encodeGrpcMessage } from "../grpc/status-message.ts";
import { encodeField, encodeIndexed } from "./hpack.ts";

/**
 * gRPC's header blocks (PROTOCOL-HTTP2 of the gRPC spec), encoded with hpack.ts: the fixed parts
 * are built once per path and reused, so a call costs one copy of a small buffer, plus its
 * `grpc-timeout` and metadata when it has them.
 */

const requestHeads = new Map<string, Buffer>();

/** `:method POST`, `:scheme`, `:path`, `:authority`, content-type and `te`, for `path`. */
function requestHead(path: string, tls: boolean): Buffer {
  const key = tls ? `s${path}` : path;
  let head = requestHeads.get(key);
  if (head === undefined) {
    head = Buffer.concat([
      encodeIndexed(3), // :method POST
      encodeIndexed(tls ? 7 : 6), // :scheme https / http
      encodeField(":path", path),
      encodeField(":authority", "localhost"),
      encodeField("content-type", "application/grpc"),
      encodeField("te", "trailers"),
    ]);
    if (requestHeads.size < 10_000) requestHeads.set(key, head);
  }
  return head;
}

/**
 * The request header block of a call. Metadata keys are sent lower-cased (HTTP/2 allows no
 * other); values as given.
 */
export function requestBlock(
  path: string,
  tls: boolean,
  timeout: string | undefined,
  metadata: Readonly<Record<string, string>> | undefined,
): Buffer {
  const head = requestHead(path, tls);
  if (timeout === undefined && metadata === undefined) return head;
  const parts = [head];
  if (timeout !== undefined) parts.push(encodeField("grpc-timeout", timeout));
  if (metadata !== undefined)
    for (const [name, value] of Object.entries(metadata))
      parts.push(encodeField(name.toLowerCase(), value));
  return Buffer.concat(parts);
}

/** `:status 200` and `content-type: application/grpc`: the head of every gRPC response. */
export const responseHead = Buffer.concat([
  encodeIndexed(8),
  encodeField("content-type", "application/grpc"),
]);

/** The trailers of a call that succeeded. */
export const okTrailers = encodeField("grpc-status", "0");

/** `grpc-status` and, when there is one, the percent-encoded `grpc-message`. */
export function statusTrailers(code: number, message: string): Buffer {
  const status = encodeField("grpc-status", String(code));
  if (message === "") return status;
  return Buffer.concat([status, encodeField("grpc-message", encodeGrpcMessage(message))]);
}

/** A response that is trailers only (an error before any message): head and status in one block. */
export function trailersOnly(code: number, message: string): Buffer {
  return Buffer.concat([responseHead, statusTrailers(code, message)]);
}

/** What a client reads from a response's header blocks. */
export interface ResponseFields {
  httpStatus: string | undefined;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
}

/** Reads the fields a client needs from a decoded block (name, value, name, value…). */
export function readResponseFields(fields: readonly string[], into: ResponseFields): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name === ":status") into.httpStatus = fields[i + 1];
    else if (name === "grpc-status") into.grpcStatus = fields[i + 1];
    else if (name === "grpc-message") into.grpcMessage = fields[i + 1];
  }
}
