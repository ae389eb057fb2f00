import type { GoValue } from "../../gob/index.ts";
import { go } from "../../gob/index.ts";

/**
 * The two headers of Go's net/rpc (`net/rpc/server.go`): every call is a `Request` followed by
 * its argument, every answer a `Response` followed by its reply, each gob-encoded on the
 * connection's one gob stream per direction. Go's own structs have an unexported free-list
 * field, which gob never sends; these are the fields it does send.
 */
export const RequestHeader = go.struct("rpc.Request", {
  /** `Service.Method`, split at the last dot. */
  ServiceMethod: go.string,
  /** Chosen by the client (Go's starts at 0), echoed in the response. */
  Seq: go.uint64,
});

export const ResponseHeader = go.struct("rpc.Response", {
  /** Echoes the request's. */
  ServiceMethod: go.string,
  Seq: go.uint64,
  /** The method's error text; when set, the body is a placeholder the client reads and drops. */
  Error: go.string,
});

/**
 * The body Go's server sends after an error answer (`invalidRequest`, a `struct{}{}`): an
 * anonymous empty struct. We send the same, so a Go client finds what it expects.
 */
export const ErrorBody = go.struct("", {});

/** A request header as read. */
export type RequestHeaderValue = GoValue<typeof RequestHeader>;

/** A response header as read. */
export type ResponseHeaderValue = GoValue<typeof ResponseHeader>;

/** Our sequence numbers are JS numbers (2⁵³ calls are enough); on the wire they are Go's uint64. */
export function seqToWire(seq: number): RequestHeaderValue["Seq"] {
  return BigInt(seq);
}

/** A sequence number from the wire; one beyond 2⁵³ becomes a number no call has. */
export function seqFromWire(seq: RequestHeaderValue["Seq"]): number {
  return Number(seq);
}
