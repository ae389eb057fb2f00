// Go's time.Time as gob carries it: a GobEncoder whose bytes are Time.MarshalBinary's. Version 1
// is 15 bytes: version, seconds since January 1 of year 1 (int64), nanoseconds (int32), the zone
// offset in minutes (int16, -1 meaning UTC). Version 2 adds one byte of offset seconds, for zones
// whose offset is not whole minutes.
import { gobTypeError } from "./errors.ts";
import type { GoOpaqueCodec } from "./opaque-codec.ts";

/** Seconds from January 1 of year 1 to the Unix epoch (Go's unixToInternal). */
const unixToInternal = 62135596800n;
const utcMarker = -1;

/**
 * A Go `time.Time`: an instant to the nanosecond, with the zone offset Go keeps (not the zone's
 * name: MarshalBinary drops it). `zoneOffsetSeconds` undefined is UTC; 0 is a zone at +00:00
 * that is not UTC, as Go tells them apart.
 */
export class GoTime {
  /** Seconds since the Unix epoch (a safe integer). */
  readonly unixSeconds: number;
  /** Nanoseconds within the second, 0 to 999,999,999. */
  readonly nanoseconds: number;
  /** Seconds east of UTC; undefined for UTC itself. */
  readonly zoneOffsetSeconds: number | undefined;

  constructor(unixSeconds: number, nanoseconds = 0, zoneOffsetSeconds?: number) {
    if (!Number.isSafeInteger(unixSeconds))
      throw gobTypeError("time.Time", `seconds ${unixSeconds} are not a safe integer`);
    if (!Number.isInteger(nanoseconds) || nanoseconds < 0 || nanoseconds > 999_999_999)
      throw gobTypeError("time.Time", `nanoseconds ${nanoseconds} are not in 0..999999999`);
    if (zoneOffsetSeconds !== undefined && !Number.isInteger(zoneOffsetSeconds))
      throw gobTypeError("time.Time", `zone offset ${zoneOffsetSeconds} is not whole seconds`);
    this.unixSeconds = unixSeconds;
    this.nanoseconds = nanoseconds;
    this.zoneOffsetSeconds = zoneOffsetSeconds;
  }

  /** Go's zero Time (January 1, year 1, UTC): what a missing time.Time field decodes to. */
  static readonly zero: GoTime = new GoTime(-Number(unixToInternal));

  /** The instant of `date` (milliseconds), in UTC or at `zoneOffsetSeconds`. */
  static fromDate(date: Date, zoneOffsetSeconds?: number): GoTime {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw gobTypeError("time.Time", "is an invalid Date");
    const seconds = Math.floor(ms / 1000);
    return new GoTime(seconds, (ms - seconds * 1000) * 1_000_000, zoneOffsetSeconds);
  }

  /** The instant as a Date (which keeps milliseconds only). */
  toDate(): Date {
    return new Date(this.unixSeconds * 1000 + Math.floor(this.nanoseconds / 1_000_000));
  }

  /** Whether this is Go's zero Time (`t.IsZero()` with no zone). */
  isZero(): boolean {
    return (
      this.unixSeconds === GoTime.zero.unixSeconds &&
      this.nanoseconds === 0 &&
      this.zoneOffsetSeconds === undefined
    );
  }

  /** RFC 3339 with nanoseconds, in the time's own offset (Go's time.RFC3339Nano). */
  toString(): string {
    const offset = this.zoneOffsetSeconds ?? 0;
    const local = new Date((this.unixSeconds + offset) * 1000).toISOString().slice(0, 19);
    const fraction = this.nanoseconds === 0 ? "" : `.${String(this.nanoseconds).padStart(9, "0")}`;
    return `${local}${fraction.replace(/0+$/, "")}${formatOffset(this.zoneOffsetSeconds)}`;
  }
}

function formatOffset(offset: number | undefined): string {
  if (offset === undefined) return "Z";
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = String(Math.floor(abs / 60) % 60).padStart(2, "0");
  const ss = abs % 60 === 0 ? "" : `:${String(abs % 60).padStart(2, "0")}`;
  return `${sign}${hh}:${mm}${ss}`;
}

/** Time.MarshalBinary. */
export function marshalTime(time: GoTime, path: string): Uint8Array {
  const offset = time.zoneOffsetSeconds;
  // Go truncates toward zero: minutes, then the seconds left (negative for a negative offset).
  const minutes = offset === undefined ? utcMarker : Math.trunc(offset / 60);
  const seconds = offset === undefined ? 0 : offset % 60;
  if (offset !== undefined && (minutes < -32768 || minutes > 32767 || minutes === utcMarker))
    throw gobTypeError(path, `has a zone offset Go cannot marshal (${offset} s)`);
  const out = new Uint8Array(seconds === 0 ? 15 : 16);
  const view = new DataView(out.buffer);
  out[0] = seconds === 0 ? 1 : 2;
  view.setBigInt64(1, BigInt(time.unixSeconds) + unixToInternal);
  view.setInt32(9, time.nanoseconds);
  view.setInt16(13, minutes);
  if (seconds !== 0) view.setInt8(15, seconds);
  return out;
}

/** Time.UnmarshalBinary; a malformed value is GOB_TYPE (the stream itself is fine). */
export function unmarshalTime(bytes: Uint8Array, path = "time.Time"): GoTime {
  const version = bytes[0];
  if (version !== 1 && version !== 2)
    throw gobTypeError(path, `does not decode as time.Time (version ${version ?? "missing"})`);
  if (bytes.byteLength !== (version === 1 ? 15 : 16))
    throw gobTypeError(path, `does not decode as time.Time (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const unix = view.getBigInt64(1) - unixToInternal;
  const nanoseconds = view.getInt32(9);
  const minutes = view.getInt16(13);
  // Go adds the seconds byte unsigned (time.go): mirrored, so both sides read the same instant.
  const offset = minutes * 60 + (version === 2 ? view.getUint8(15) : 0);
  if (unix < BigInt(Number.MIN_SAFE_INTEGER) || unix > BigInt(Number.MAX_SAFE_INTEGER))
    throw gobTypeError(path, "is a time.Time beyond the range JS numbers hold");
  if (nanoseconds < 0 || nanoseconds > 999_999_999)
    throw gobTypeError(path, `does not decode as time.Time (nanoseconds ${nanoseconds})`);
  return new GoTime(Number(unix), nanoseconds, offset === -60 ? undefined : offset);
}

/**
 * The opaque codec behind `go.time`. The encoder also takes a Date (as UTC, to the millisecond);
 * the decoder always gives a GoTime.
 */
export const timeCodec: GoOpaqueCodec<GoTime> = {
  encode: (value, path) =>
    marshalTime(value instanceof Date ? GoTime.fromDate(value) : value, path),
  decode: (bytes) => unmarshalTime(bytes),
  isZero: (value) => value instanceof GoTime && value.isZero(),
  zero: () => GoTime.zero,
  accepts: (value) => value instanceof GoTime || value instanceof Date,
};
