import { defaultMaxFrameBytes, H2Error } from "./frames.ts";

/** SETTINGS parameters (RFC 9113 §6.5.2). */
export const SettingId = {
  headerTableSize: 0x1,
  enablePush: 0x2,
  maxConcurrentStreams: 0x3,
  initialWindowSize: 0x4,
  maxFrameSize: 0x5,
  maxHeaderListSize: 0x6,
} as const;

/** One side's settings, as announced (or the protocol's defaults until then). */
export interface Settings {
  headerTableSize: number;
  enablePush: boolean;
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  maxHeaderListSize: number;
}

/** The initial window of every stream and of the connection until a peer changes it. */
export const defaultWindowBytes = 65_535;
/** The largest window HTTP/2 allows (2^31 - 1). */
export const maxWindowBytes = 0x7fffffff;

/** What a peer's settings are before its SETTINGS frame arrives. */
export function defaultSettings(): Settings {
  return {
    headerTableSize: 4096,
    enablePush: true,
    maxConcurrentStreams: Number.POSITIVE_INFINITY,
    initialWindowSize: defaultWindowBytes,
    maxFrameSize: defaultMaxFrameBytes,
    maxHeaderListSize: Number.POSITIVE_INFINITY,
  };
}

/** A SETTINGS payload that breaks the protocol: the connection error it is. */
export class SettingsError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Applies a SETTINGS payload to `settings`; unknown parameters are ignored, as the protocol
 * asks. Returns the change of the initial stream window (every open stream's send window moves
 * by it). Throws SettingsError for a malformed payload or an out-of-range value.
 */
export function applySettings(settings: Settings, payload: Buffer): number {
  if (payload.byteLength % 6 !== 0)
    throw new SettingsError(H2Error.frameSize, "SETTINGS length is not a multiple of 6");
  let windowDelta = 0;
  for (let at = 0; at < payload.byteLength; at += 6) {
    const id = payload.readUInt16BE(at);
    const value = payload.readUInt32BE(at + 2);
    switch (id) {
      case SettingId.headerTableSize:
        settings.headerTableSize = value;
        break;
      case SettingId.enablePush:
        if (value > 1)
          throw new SettingsError(H2Error.protocol, "SETTINGS_ENABLE_PUSH is not 0 or 1");
        settings.enablePush = value === 1;
        break;
      case SettingId.maxConcurrentStreams:
        settings.maxConcurrentStreams = value;
        break;
      case SettingId.initialWindowSize:
        if (value > maxWindowBytes)
          throw new SettingsError(H2Error.flowControl, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1");
        windowDelta += value - settings.initialWindowSize;
        settings.initialWindowSize = value;
        break;
      case SettingId.maxFrameSize:
        if (value < defaultMaxFrameBytes || value > 0xffffff)
          throw new SettingsError(
            H2Error.protocol,
            `SETTINGS_MAX_FRAME_SIZE ${value} out of range`,
          );
        settings.maxFrameSize = value;
        break;
      case SettingId.maxHeaderListSize:
        settings.maxHeaderListSize = value;
        break;
      default:
        break;
    }
  }
  return windowDelta;
}

/** A SETTINGS payload announcing `values` (only the parameters given). */
export function encodeSettings(values: Partial<Record<keyof typeof SettingId, number>>): Buffer {
  const entries = Object.entries(values).filter(([, value]) => value !== undefined);
  const out = Buffer.allocUnsafe(entries.length * 6);
  entries.forEach(([name, value], i) => {
    out.writeUInt16BE(SettingId[name as keyof typeof SettingId], i * 6);
    out.writeUInt32BE(value as number, i * 6 + 2);
  });
  return out;
}

/** What one side announces and enforces on a connection. */
export interface LocalSettings {
  /** The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly streamWindowBytes: number;
  /**
   * The window a stream is widened to, by a WINDOW_UPDATE, when a message of at least a quarter
   * of `streamWindowBytes` starts arriving on it (docs/performance.md §28). Default: no widening.
   */
  readonly largeMessageWindowBytes?: number | undefined;
  /** The connection's receive window, opened by a WINDOW_UPDATE right after SETTINGS. */
  readonly connectionWindowBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS (server), enforced with REFUSED_STREAM. */
  readonly maxConcurrentStreams?: number | undefined;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: header blocks decoding to more fail the connection. */
  readonly maxHeaderListBytes: number;
}

/** The SETTINGS a side opens with: a client also turns server push off. */
export function localSettingsPayload(local: LocalSettings, isServer: boolean): Buffer {
  return encodeSettings({
    ...(isServer ? {} : { enablePush: 0 }),
    initialWindowSize: local.streamWindowBytes,
    maxHeaderListSize: local.maxHeaderListBytes,
    ...(local.maxConcurrentStreams === undefined
      ? {}
      : { maxConcurrentStreams: local.maxConcurrentStreams }),
  });
}
