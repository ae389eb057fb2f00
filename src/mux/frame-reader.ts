import { PluginError } from "../errors/plugin-error.ts";
import type { FrameHeader } from "./frame.ts";
import { Flag, FrameParser, FrameType, GoAwayCode, yamuxVersion } from "./frame.ts";
import type { FrameWriter } from "./frame-writer.ts";
import type { Pinger } from "./ping.ts";
import type { SessionControl } from "./session-control.ts";
import type { YamuxStream } from "./stream.ts";
import { streamFrames } from "./stream.ts";
import type { StreamTable } from "./stream-table.ts";

/** What the reader needs from the session beyond its parts. */
export interface ReaderHost extends SessionControl {
  /** False once this side sent GoAway: SYNs from the peer are refused. */
  readonly acceptsStreams: boolean;
  /** The peer sent GoAway (normal): this side opens no more streams. */
  peerGoAway(): void;
}

/**
 * The session's way in: parses what the connection delivers and hands each frame to its owner
 * (stream frames to their stream, pings to the pinger, GoAway to the session). A frame that
 * breaks the protocol answers GoAway(protocol error) and fails the session.
 */
export class FrameReader {
  readonly #parser: FrameParser;
  readonly #session: ReaderHost;
  readonly #table: StreamTable;
  readonly #pinger: Pinger;
  readonly #writer: FrameWriter;
  /** The stream the frame being parsed belongs to (undefined: its payload is dropped). */
  #current: YamuxStream | undefined;

  constructor(session: ReaderHost, table: StreamTable, pinger: Pinger, writer: FrameWriter) {
    this.#session = session;
    this.#table = table;
    this.#pinger = pinger;
    this.#writer = writer;
    this.#parser = new FrameParser({
      header: (header) => this.#onHeader(header),
      payload: (_header, chunk) => this.#current?.[streamFrames].payload(chunk),
      end: (header) => this.#onFrameEnd(header),
    });
  }

  /** Bytes read from the connection, in any split. */
  push(chunk: Buffer): void {
    this.#parser.push(chunk);
  }

  /** The session has ended: whatever still arrives is ignored. */
  stop(): void {
    this.#parser.stop();
    this.#current = undefined;
  }

  #onHeader(header: FrameHeader): void {
    this.#current = undefined;
    if (header.version !== yamuxVersion) {
      this.#protocolError(`invalid yamux protocol version ${header.version}`);
      return;
    }
    switch (header.type) {
      case FrameType.DATA:
      case FrameType.WINDOW_UPDATE:
        this.#onStreamHeader(header);
        return;
      case FrameType.PING:
        this.#pinger.received(header);
        return;
      case FrameType.GO_AWAY:
        this.#onGoAway(header.length);
        return;
      default:
        this.#protocolError(`invalid yamux frame type ${header.type}`);
    }
  }

  #onStreamHeader(header: FrameHeader): void {
    const { flags, streamId: id } = header;
    if ((flags & Flag.SYN) !== 0) {
      const incoming = this.#table.incoming(id, !this.#session.acceptsStreams);
      if (incoming === "duplicate") this.#protocolError(`duplicate yamux stream ${id}`);
      if (incoming !== "registered") return;
    }
    const stream = this.#table.get(id);
    // No stream: one we reset or finished; its late frames (and Data payload) are dropped.
    if (stream === undefined) return;
    if ((flags & Flag.ACK) !== 0) this.#table.acknowledged(id);
    if (header.type === FrameType.WINDOW_UPDATE) {
      stream[streamFrames].windowUpdate(header.length);
    } else if (header.length > 0 && !stream[streamFrames].reserve(header.length)) {
      this.#protocolError(`yamux stream ${id} exceeded its receive window`);
      return;
    }
    this.#current = stream;
  }

  #onFrameEnd(header: FrameHeader): void {
    const stream = this.#current;
    this.#current = undefined;
    if (stream === undefined || this.#session.failure !== undefined) return;
    if ((header.flags & Flag.FIN) !== 0) stream[streamFrames].fin();
    if ((header.flags & Flag.RST) !== 0) {
      stream[streamFrames].reset(
        new PluginError("UNAVAILABLE", `yamux stream ${stream.id} was reset by the peer`, {
          details: { streamId: stream.id },
        }),
      );
    }
  }

  #onGoAway(code: number): void {
    switch (code) {
      case GoAwayCode.NORMAL:
        this.#session.peerGoAway();
        return;
      case GoAwayCode.PROTOCOL_ERROR:
        this.#session.fail(new PluginError("INTERNAL", "the yamux peer reported a protocol error"));
        return;
      case GoAwayCode.INTERNAL_ERROR:
        this.#session.fail(
          new PluginError("INTERNAL", "the yamux peer reported an internal error"),
        );
        return;
      default:
        this.#session.fail(new PluginError("INTERNAL", `unexpected yamux GoAway code ${code}`));
    }
  }

  #protocolError(message: string): void {
    this.#writer.send(FrameType.GO_AWAY, 0, 0, GoAwayCode.PROTOCOL_ERROR);
    this.#session.fail(new PluginError("INTERNAL", message));
  }
}
