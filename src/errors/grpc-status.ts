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
