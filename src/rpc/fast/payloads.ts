import { CallFlag } from "./frames.ts";

// The payloads of the fast wire's control frames (docs/fast-wire.md): a call's head, a status, a
// credit. Frames themselves are read and written in frames.ts.

/** The fields of a `call` frame before its message. */
export interface CallHead {
  readonly flags: number;
  readonly timeoutMs: number | undefined;
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Where the request message starts in the payload. */
  readonly messageOffset: number;
}

const pathCache = new Map<string, Buffer>();

/** `u8 flags | u32 timeout ms | u16 path length | path | [u32 length | metadata JSON]`. */
export function encodeCallHead(
  path: string,
  flags: number,
  timeoutMs: number | undefined,
  metadata: Readonly<Record<string, string>> | undefined,
): Buffer {
  let pathBytes = pathCache.get(path);
  if (pathBytes === undefined) {
    pathBytes = Buffer.from(path, "utf8");
    if (pathCache.size < 10_000) pathCache.set(path, pathBytes);
  }
  const meta =
    metadata === undefined || Object.keys(metadata).length === 0
      ? undefined
      : Buffer.from(JSON.stringify(metadata), "utf8");
  const head = Buffer.allocUnsafe(
    7 + pathBytes.byteLength + (meta === undefined ? 0 : 4 + meta.byteLength),
  );
  let all = flags;
  if (timeoutMs !== undefined) all |= CallFlag.timeout;
  if (meta !== undefined) all |= CallFlag.metadata;
  head[0] = all;
  head.writeUInt32BE(
    timeoutMs === undefined ? 0 : Math.min(Math.max(0, Math.ceil(timeoutMs)), 0xffffffff),
    1,
  );
  head.writeUInt16BE(pathBytes.byteLength, 5);
  const offset = 7 + pathBytes.copy(head, 7);
  if (meta !== undefined) {
    head.writeUInt32BE(meta.byteLength, offset);
    meta.copy(head, offset + 4);
  }
  return head;
}

/** Reads a `call` frame's head; throws on a malformed one. */
export function decodeCallHead(payload: Buffer): CallHead {
  const flags = payload[0]!;
  const timeout = payload.readUInt32BE(1);
  const pathLength = payload.readUInt16BE(5);
  const path = payload.toString("utf8", 7, 7 + pathLength);
  let offset = 7 + pathLength;
  let metadata: Record<string, string> | undefined;
  if ((flags & CallFlag.metadata) !== 0) {
    const length = payload.readUInt32BE(offset);
    metadata = stringMap(JSON.parse(payload.toString("utf8", offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  if (offset > payload.byteLength) throw new RangeError("call frame shorter than its head");
  return {
    flags,
    timeoutMs: (flags & CallFlag.timeout) !== 0 ? timeout : undefined,
    path,
    metadata,
    messageOffset: offset,
  };
}

/** Call metadata as a peer sent it: a JSON object of strings, or a RangeError. */
function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new RangeError("call metadata is not a JSON object");
  for (const item of Object.values(value))
    if (typeof item !== "string") throw new RangeError("call metadata values must be strings");
  return value as Record<string, string>;
}

/** `u8 status code | UTF-8 message`. */
export function encodeStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, "utf8");
  const out = Buffer.allocUnsafe(1 + text.byteLength);
  out[0] = code;
  text.copy(out, 1);
  return out;
}

export function decodeStatus(payload: Buffer): { code: number; message: string } {
  return { code: payload[0] ?? 2, message: payload.toString("utf8", 1) };
}

export function encodeCredit(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(Math.min(bytes, 0xffffffff), 0);
  return out;
}
