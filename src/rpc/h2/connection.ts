import type { Duplex } from "node:stream";
import type { ReadonlyIdTable } from "../../internal/id-table.ts";
import { IdTable } from "../../internal/id-table.ts";
import { AllocationBudget } from "../grpc/framing.ts";
import type { ControlHost } from "./control-frames.ts";
import {
  onPing,
  onPriority,
  onReset,
  onSettings,
  onWindowUpdate,
  readGoaway,
  requireStream,
  uint32,
} from "./control-frames.ts";
import { Flag, FrameReader, FrameType, H2Error } from "./frames.ts";
import { FrameError, HeaderBlock, readHeadersFrame, unpad } from "./header-block.ts";
import { HpackDecoder, HpackError, tableSizeZero } from "./hpack.ts";
import type { LocalSettings, Settings } from "./settings.ts";
import { defaultSettings, defaultWindowBytes, localSettingsPayload } from "./settings.ts";
import type { StreamEvents, StreamHost } from "./stream.ts";
import { H2Stream } from "./stream.ts";
import { FrameWriter } from "./writer.ts";

/** Peer streams this side reset whose late frames are ignored; on our own, frames are ignored at
 * any age (a busy plugin answers cancelled calls late: docs/transport.md, "Cancellation bursts"). */
const rememberedStreams = 1024;
/** How long a connection that failed may take to close before it is destroyed. */
const closeGraceMs = 1000;

/**
 * One HTTP/2 connection, either role, as gRPC uses it (RFC 9113): frames read and checked,
 * SETTINGS, PING, WINDOW_UPDATE, GOAWAY and RST_STREAM handled, header blocks assembled and
 * decoded, flow control both ways, and every protocol error answered with the stream or
 * connection error the RFC names. What a stream carries is the subclass's (client.ts, server.ts).
 */
export abstract class H2Connection implements StreamHost, ControlHost {
  readonly socket: Duplex;
  readonly writer: FrameWriter;
  readonly peer: Settings = defaultSettings();
  sendWindow = defaultWindowBytes;
  readonly allocationBudget: AllocationBudget; // message buffers allocated ahead: one window
  /** Open streams by id; an IdTable, not a Map (docs/performance.md §27). */
  protected readonly streams = new IdTable<H2Stream>();
  protected readonly local: LocalSettings;
  /** The highest stream id this side opened, and the highest the peer opened. */
  protected highestLocal = 0;
  protected highestRemote = 0;
  readonly #isServer: boolean;
  readonly #reader: FrameReader;
  readonly #decoder = new HpackDecoder();
  #receiveWindow: number;
  #receiveUnacked = 0;
  #block: HeaderBlock | undefined;
  #waiting: H2Stream[] = [];
  readonly #ignored = new Set<number>();
  readonly #closedRemote = new Set<number>();
  #settingsSeen = false;
  #firstBlock = true;
  #failed = false;
  #readingPaused = false;
  #closeReason: string | undefined;

  constructor(socket: Duplex, isServer: boolean, local: LocalSettings) {
    this.socket = socket;
    this.#isServer = isServer;
    this.local = local;
    this.allocationBudget = new AllocationBudget(local.connectionWindowBytes);
    this.#receiveWindow = defaultWindowBytes;
    // Only a server stops reading while its peer does not read what it writes: a client that
    // did too would deadlock with a server doing the same (each waiting for the other to read).
    this.writer = new FrameWriter(socket, isServer ? () => this.#pauseReading() : undefined);
    this.#reader = new FrameReader({
      frame: (type, flags, id, payload) => this.#frame(type, flags, id, payload),
      oversize: (type, length) =>
        this.fail(H2Error.frameSize, `a frame of type ${type} has ${length} bytes`),
    });
    socket.on("error", (error: Error) => {
      this.#closeReason ??= error.message;
    });
    socket.once("close", () => this.#closed());
  }

  get maxFrameBytes(): number {
    return this.peer.maxFrameSize;
  }

  /** Whether the connection failed or closed: no new streams. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Writes this side's SETTINGS and opens the connection window (client: after the preface). */
  protected start(): void {
    const local = this.local;
    this.writer.frame(FrameType.settings, 0, 0, localSettingsPayload(local, this.#isServer));
    const extra = local.connectionWindowBytes - defaultWindowBytes;
    if (extra > 0) {
      this.#receiveWindow += extra;
      this.writer.frame(FrameType.windowUpdate, 0, 0, uint32(extra));
    }
  }

  /** Feeds a read; `borrowed`: in a buffer the socket reuses, kept by nothing (performance §20). */
  protected receive(chunk: Buffer, borrowed = false): void {
    if (this.#failed) return;
    this.#reader.push(chunk, borrowed);
  }

  /** A new stream of this side (client) or the peer (server). */
  protected addStream(id: number, events: StreamEvents): H2Stream {
    const { initialWindowSize } = this.peer;
    const stream = new H2Stream(this, id, events, initialWindowSize, this.local.streamWindowBytes);
    stream.largeMessageWindowBytes = this.local.largeMessageWindowBytes ?? 0;
    this.streams.set(id, stream);
    return stream;
  }

  /** A header block opening a stream of the peer's (the server's requests). */
  protected abstract acceptStream(id: number, fields: string[], endStream: boolean): void;
  /** The peer sent GOAWAY. */
  protected abstract onGoaway(lastStreamId: number, code: number, debug: string): void;
  /** The socket closed; every stream has been told already. */
  protected abstract onClosed(reason: string): void;
  /** A PING this side sent was answered. */
  protected onPingAck(_payload: Buffer): void {}

  headers(id: number, block: Buffer, endStream: boolean): void {
    // Our encoder never uses the dynamic table; the first block written says so (hpack.ts).
    const sent = this.#firstBlock ? Buffer.concat([tableSizeZero, block]) : block;
    this.#firstBlock = false;
    this.writer.headers(id, sent, endStream, this.peer.maxFrameSize);
  }

  get openStreams(): ReadonlyIdTable<H2Stream> {
    return this.streams;
  }

  wakeWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const stream of waiting) stream.pump();
  }

  pingAcked(payload: Buffer): void {
    this.onPingAck(payload);
  }

  waitForWindow(stream: H2Stream): void {
    if (!this.#waiting.includes(stream)) this.#waiting.push(stream);
  }

  streamClosed(stream: H2Stream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    if (this.#isServer === ((stream.id & 1) === 1)) {
      this.#closedRemote.add(stream.id);
      trim(this.#closedRemote);
    }
  }

  /** Resets `stream` from this side (cancel, a stream error): its late frames are ignored. */
  resetStream(id: number, code: number): void {
    this.writer.frame(FrameType.rstStream, 0, id, uint32(code));
    this.#ignored.add(id);
    trim(this.#ignored);
    this.streams.get(id)?.close();
  }

  /** Sends a PING (its 8 bytes come back in the ACK). */
  ping(payload: Buffer): void {
    this.writer.frame(FrameType.ping, 0, 0, payload);
  }

  /** Sends GOAWAY naming the last stream of the peer's that is served. */
  goaway(code: number, debug = ""): void {
    const payload = Buffer.allocUnsafe(8 + Buffer.byteLength(debug));
    payload.writeUInt32BE(this.highestRemote, 0);
    payload.writeUInt32BE(code, 4);
    payload.write(debug, 8);
    this.writer.frame(FrameType.goaway, 0, 0, payload);
  }

  /**
   * A connection error: GOAWAY with the code and reason, every stream told, the socket ended
   * (destroyed if it does not close within a second). Nothing more is read.
   */
  fail(code: number, reason: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#closeReason ??= reason;
    this.#reader.stop();
    this.goaway(code, reason);
    this.writer.flush();
    this.writer.close();
    this.#resetAll(`HTTP/2 connection error: ${reason}`);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), closeGraceMs).unref();
  }

  /** Ends the connection at once. */
  destroy(reason = "the connection was closed"): void {
    this.#closeReason ??= reason;
    this.#failed = true;
    this.writer.close();
    this.socket.destroy();
  }

  #frame(type: number, flags: number, id: number, payload: Buffer): void {
    try {
      if (
        this.#block !== undefined &&
        (type !== FrameType.continuation || id !== this.#block.streamId)
      )
        throw new FrameError(H2Error.protocol, "a header block was interrupted by another frame");
      if (!this.#settingsSeen) {
        if (type !== FrameType.settings || (flags & Flag.ack) !== 0)
          throw new FrameError(H2Error.protocol, "the first frame is not SETTINGS");
        this.#settingsSeen = true;
      }
      this.#dispatch(type, flags, id, payload);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      if (error.streamId === undefined) this.fail(error.code, error.message);
      else this.#streamError(error.streamId, error.code, error.message);
    }
  }

  #dispatch(type: number, flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.data:
        this.#onData(flags, id, payload);
        return;
      case FrameType.headers: {
        requireStream(id);
        const frame = readHeadersFrame(id, flags, payload);
        const block = new HeaderBlock(id, flags, frame, this.local.maxHeaderListBytes);
        if ((flags & Flag.endHeaders) === 0) this.#block = block;
        else this.#headerBlock(block);
        return;
      }
      case FrameType.continuation: {
        const block = this.#block;
        if (block === undefined)
          throw new FrameError(H2Error.protocol, "CONTINUATION without HEADERS");
        block.add(payload);
        if ((flags & Flag.endHeaders) !== 0) {
          this.#block = undefined;
          this.#headerBlock(block);
        }
        return;
      }
      case FrameType.priority:
        onPriority(id, payload);
        return;
      case FrameType.rstStream:
        onReset(this, id, payload);
        return;
      case FrameType.settings:
        onSettings(this, flags, id, payload);
        return;
      case FrameType.pushPromise:
        throw new FrameError(
          H2Error.protocol,
          "PUSH_PROMISE, which this side disabled or cannot get",
        );
      case FrameType.ping:
        onPing(this, flags, id, payload);
        return;
      case FrameType.goaway: {
        const { lastStreamId, code, debug } = readGoaway(id, payload);
        this.onGoaway(lastStreamId, code, debug);
        return;
      }
      case FrameType.windowUpdate:
        onWindowUpdate(this, id, payload);
        return;
      default:
        return; // unknown frame types are ignored (RFC 9113 §5.5)
    }
  }

  /** Whether `id` names a stream nobody has opened yet. */
  isIdle(id: number): boolean {
    const remote = this.#isServer === ((id & 1) === 1);
    return id > (remote ? this.highestRemote : this.highestLocal);
  }

  #headerBlock(block: HeaderBlock): void {
    const fields: string[] = [];
    try {
      this.#decoder.decode(block.bytes, fields, 2 * this.local.maxHeaderListBytes);
    } catch (error) {
      if (error instanceof HpackError) throw new FrameError(H2Error.compression, error.message);
      throw error;
    }
    const id = block.streamId;
    if (block.selfDependent)
      throw new FrameError(H2Error.protocol, "a stream depends on itself", id);
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      if (stream.remoteEnded)
        throw new FrameError(H2Error.streamClosed, "HEADERS after the end of the stream", id);
      // The end is marked before the stream hears of it, so a call finishing on it knows.
      if (block.endStream) stream.remoteEnded = true;
      stream.events.onHeaders(fields, block.endStream);
      if (block.endStream) stream.endRemote();
      return;
    }
    if (this.#ignored.has(id)) return;
    const remote = this.#isServer === ((id & 1) === 1);
    if (!remote && !this.isIdle(id)) return; // ours, closed: see `rememberedStreams`
    if (!remote || !this.isIdle(id)) {
      if (this.#closedRemote.has(id))
        throw new FrameError(H2Error.streamClosed, `HEADERS on closed stream ${id}`);
      throw new FrameError(H2Error.protocol, `HEADERS on stream ${id}, not the peer's to open`);
    }
    this.highestRemote = id;
    this.acceptStream(id, fields, block.endStream);
  }

  #onData(flags: number, id: number, payload: Buffer): void {
    requireStream(id);
    const length = payload.byteLength;
    if (length > this.#receiveWindow)
      throw new FrameError(H2Error.flowControl, "DATA beyond the connection window");
    this.#receiveWindow -= length;
    this.#creditConnection(length);
    const { body, padding } = unpad(flags, payload);
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#ignored.has(id)) return;
      if (this.isIdle(id)) throw new FrameError(H2Error.protocol, `DATA on idle stream ${id}`);
      if (this.#isServer !== ((id & 1) === 1)) return; // one of ours, closed: see `rememberedStreams`
      throw new FrameError(H2Error.streamClosed, `DATA on closed stream ${id}`, id);
    }
    if (stream.remoteEnded)
      throw new FrameError(H2Error.streamClosed, "DATA after the end of the stream", id);
    if (!stream.received(length))
      throw new FrameError(H2Error.flowControl, "DATA beyond the stream window", id);
    if (padding > 0) stream.credit(padding);
    const end = (flags & Flag.endStream) !== 0;
    if (end) stream.remoteEnded = true;
    stream.events.onData(body, end, this.#reader.borrowed);
    if (end) stream.endRemote();
  }

  /** Hands connection-level window back at once, in batches of half the window. */
  #creditConnection(bytes: number): void {
    this.#receiveUnacked += bytes;
    if (this.#receiveUnacked < this.local.connectionWindowBytes / 2) return;
    const increment = this.#receiveUnacked;
    this.#receiveUnacked = 0;
    this.#receiveWindow += increment;
    this.writer.frame(FrameType.windowUpdate, 0, 0, uint32(increment));
  }

  #streamError(id: number, code: number, reason: string): void {
    const stream = this.streams.get(id);
    this.resetStream(id, code);
    stream?.events.onReset(code, `HTTP/2 stream error: ${reason}`);
  }

  /** The socket is full (the peer is not reading): read nothing more until it drains. */
  #pauseReading(): void {
    if (this.#readingPaused || this.#failed) return;
    this.#readingPaused = true;
    this.socket.pause();
    this.socket.once("drain", () => {
      this.#readingPaused = false;
      this.socket.resume();
    });
  }

  #resetAll(reason: string): void {
    const streams = this.streams.values();
    this.streams.clear();
    for (const stream of streams) {
      stream.close();
      stream.events.onReset(undefined, reason);
    }
  }

  #closed(): void {
    this.#failed = true;
    this.writer.close();
    this.#reader.stop();
    const reason = this.#closeReason ?? "the connection closed";
    this.#resetAll(reason);
    this.onClosed(reason);
  }
}

/** Keeps a set of remembered ids bounded, forgetting the oldest. */
function trim(ids: Set<number>): void {
  if (ids.size <= rememberedStreams) return;
  for (const id of ids) {
    ids.delete(id);
    if (ids.size <= rememberedStreams) return;
  }
}
