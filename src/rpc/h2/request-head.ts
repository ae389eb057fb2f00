import { parseGrpcTimeout } from "../grpc/timeout.ts";

/**
 * A request's header block as a server reads it: checked as HTTP/2 requires (RFC 9113 §8.2,
 * §8.3: lower-case names, known pseudo-headers first and once, no connection-specific fields),
 * then told apart as a gRPC call or another HTTP request.
 */
export type RequestHead =
  | {
      readonly t: "grpc";
      readonly path: string;
      readonly timeoutMs: number | undefined;
      /** The caller's metadata and `:path`, as the handler sees them on every wire. */
      readonly metadata: Record<string, string>;
      readonly contentLength: number | undefined;
    }
  /** Well-formed, but not gRPC (another method or content type): answered 415. */
  | { readonly t: "other"; readonly contentLength: number | undefined }
  /** Malformed: a stream error (PROTOCOL_ERROR). */
  | { readonly t: "malformed"; readonly reason: string };

const requestPseudo = new Set([":method", ":scheme", ":path", ":authority"]);
const connectionSpecific = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);
/** Fields that frame the call rather than describe it: not handed to the handler (as grpc/server.ts). */
const transportFields = new Set([
  "te",
  "content-type",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

/** Reads a request's fields (name, value, name, value…). */
export function readRequestHead(fields: readonly string[]): RequestHead {
  const pseudo: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  let regular = false;
  let contentType = "";
  let timeout: string | undefined;
  let contentLength: number | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const problem = fieldProblem(name, value, regular);
    if (problem !== undefined) return { t: "malformed", reason: problem };
    if (name.startsWith(":")) {
      if (pseudo[name] !== undefined) return { t: "malformed", reason: `${name} appears twice` };
      pseudo[name] = value;
      continue;
    }
    regular = true;
    if (name === "content-length") {
      if (!/^\d+$/.test(value)) return { t: "malformed", reason: "content-length is not a number" };
      contentLength = Number(value);
    } else if (name === "content-type") contentType = value;
    else if (name === "grpc-timeout") timeout = value;
    if (transportFields.has(name)) continue;
    metadata[name] = metadata[name] === undefined ? value : `${metadata[name]}, ${value}`;
  }
  const path = pseudo[":path"];
  if (pseudo[":method"] === undefined || pseudo[":scheme"] === undefined || !path)
    return { t: "malformed", reason: "a request needs :method, :scheme and a non-empty :path" };
  if (pseudo[":method"] !== "POST" || !isGrpcContentType(contentType))
    return { t: "other", contentLength };
  metadata[":path"] = path;
  return { t: "grpc", path, timeoutMs: parseGrpcTimeout(timeout), metadata, contentLength };
}

/** Why trailers sent by a client are malformed, or undefined when they are not. */
export function trailersProblem(fields: readonly string[]): string | undefined {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.startsWith(":")) return `a pseudo-header (${name}) in trailers`;
    const problem = fieldProblem(name, fields[i + 1]!, true);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function fieldProblem(name: string, value: string, regularSeen: boolean): string | undefined {
  if (name === "" || name !== name.toLowerCase())
    return `field name ${JSON.stringify(name)} is not lower case`;
  if (name.startsWith(":")) {
    if (!requestPseudo.has(name)) return `${name} is not a request pseudo-header`;
    if (regularSeen) return `${name} after a regular field`;
    return undefined;
  }
  if (connectionSpecific.has(name)) return `the connection-specific field ${name}`;
  if (name === "te" && value !== "trailers") return `te: ${value} (only "trailers" is allowed)`;
  return undefined;
}

/** `application/grpc`, alone or followed by `+format` or `;parameters`. */
function isGrpcContentType(value: string): boolean {
  if (!value.startsWith("application/grpc")) return false;
  const next = value.charAt(16);
  return next === "" || next === "+" || next === ";";
}
