import type { ReadonlyIdTable } from "../../internal/id-table.ts";
import { Flag, FrameType, H2Error } from "./frames.ts";
import { FrameError } from "./header-block.ts";
import type { Settings } from "./settings.ts";
import { applySettings, maxWindowBytes, SettingsError } from "./settings.ts";
import type { H2Stream } from "./stream.ts";
import type { FrameWriter } from "./writer.ts";

/**
 * The frames that steer a connection rather than carry a stream's content: SETTINGS, PING,
 * WINDOW_UPDATE, RST_STREAM, PRIORITY and GOAWAY, checked as RFC 9113 §6 asks. A broken one
 * throws the FrameError it earns; the connection answers it (connection.ts).
 */

/** What these frames act on: the connection's state, as connection.ts keeps it. */
export interface ControlHost {
  readonly peer: Settings;
  readonly writer: FrameWriter;
  sendWindow: number;
  readonly openStreams: ReadonlyIdTable<H2Stream>;
  /** Whether `id` names a stream nobody has opened yet. */
  isIdle(id: number): boolean;
  /** The connection window grew: streams waiting for it send. */
  wakeWaiting(): void;
  /** A PING this side sent was answered. */
  pingAcked(payload: Buffer): void;
}

export function requireStream(id: number): void {
  if (id === 0) throw new FrameError(H2Error.protocol, "a stream frame on stream 0");
}

export function uint32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/** A GOAWAY frame's fields (RFC 9113 §6.8). */
export function readGoaway(
  id: number,
  payload: Buffer,
): { lastStreamId: number; code: number; debug: string } {
  if (id !== 0) throw new FrameError(H2Error.protocol, "GOAWAY on a stream");
  if (payload.byteLength < 8) throw new FrameError(H2Error.frameSize, "GOAWAY under 8 bytes");
  return {
    lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
    code: payload.readUInt32BE(4),
    debug: payload.toString("utf8", 8),
  };
}

/** Applies and acknowledges the peer's SETTINGS; a new initial window moves every stream's. */
export function onSettings(host: ControlHost, flags: number, id: number, payload: Buffer): void {
  if (id !== 0) throw new FrameError(H2Error.protocol, "SETTINGS on a stream");
  if ((flags & Flag.ack) !== 0) {
    if (payload.byteLength !== 0)
      throw new FrameError(H2Error.frameSize, "a SETTINGS ACK with a payload");
    return;
  }
  let delta: number;
  try {
    delta = applySettings(host.peer, payload);
  } catch (error) {
    if (error instanceof SettingsError) throw new FrameError(error.code, error.message);
    throw error;
  }
  if (delta !== 0) {
    for (const stream of host.openStreams.values()) {
      stream.sendWindow += delta;
      if (stream.sendWindow > maxWindowBytes)
        throw new FrameError(H2Error.flowControl, "a stream window over 2^31-1");
    }
  }
  host.writer.frame(FrameType.settings, Flag.ack, 0);
  if (delta > 0) for (const stream of host.openStreams.values()) stream.pump();
}

/** Answers a PING, or reports the answer to ours. */
export function onPing(host: ControlHost, flags: number, id: number, payload: Buffer): void {
  if (id !== 0) throw new FrameError(H2Error.protocol, "PING on a stream");
  if (payload.byteLength !== 8) throw new FrameError(H2Error.frameSize, "PING is not 8 bytes");
  if ((flags & Flag.ack) !== 0) host.pingAcked(payload);
  else host.writer.answer(FrameType.ping, Flag.ack, payload);
}

/** Grows the connection's or a stream's send window, and lets what waited for it go. */
export function onWindowUpdate(host: ControlHost, id: number, payload: Buffer): void {
  if (payload.byteLength !== 4)
    throw new FrameError(H2Error.frameSize, "WINDOW_UPDATE is not 4 bytes");
  const increment = payload.readUInt32BE(0) & 0x7fffffff;
  if (id === 0) {
    if (increment === 0) throw new FrameError(H2Error.protocol, "a WINDOW_UPDATE of 0");
    host.sendWindow += increment;
    if (host.sendWindow > maxWindowBytes)
      throw new FrameError(H2Error.flowControl, "the connection window over 2^31-1");
    host.wakeWaiting();
    return;
  }
  const stream = host.openStreams.get(id);
  if (stream === undefined) {
    if (host.isIdle(id))
      throw new FrameError(H2Error.protocol, `WINDOW_UPDATE on idle stream ${id}`);
    return; // a closed stream: its late updates are expected
  }
  if (increment === 0) throw new FrameError(H2Error.protocol, "a WINDOW_UPDATE of 0", id);
  stream.sendWindow += increment;
  if (stream.sendWindow > maxWindowBytes)
    throw new FrameError(H2Error.flowControl, "a stream window over 2^31-1", id);
  stream.pump();
}

/** The peer reset a stream: it is closed, and whoever reads it learns why. */
export function onReset(host: ControlHost, id: number, payload: Buffer): void {
  requireStream(id);
  if (payload.byteLength !== 4)
    throw new FrameError(H2Error.frameSize, "RST_STREAM is not 4 bytes");
  const stream = host.openStreams.get(id);
  if (stream === undefined) {
    if (host.isIdle(id)) throw new FrameError(H2Error.protocol, `RST_STREAM on idle stream ${id}`);
    return;
  }
  const code = payload.readUInt32BE(0);
  stream.close();
  stream.events.onReset(code, `the stream was reset by the peer (HTTP/2 error ${code})`);
}

/** PRIORITY is read and checked, never acted on (RFC 9113 deprecates the scheme). */
export function onPriority(id: number, payload: Buffer): void {
  requireStream(id);
  if (payload.byteLength !== 5)
    throw new FrameError(H2Error.frameSize, "PRIORITY is not 5 bytes", id);
  if ((payload.readUInt32BE(0) & 0x7fffffff) === id)
    throw new FrameError(H2Error.protocol, "a stream depends on itself", id);
}
