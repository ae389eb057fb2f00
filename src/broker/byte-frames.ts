import type { Duplex } from "node:stream";
import { Readable, Writable } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { FrameSplitter } from "./frame-splitter.ts";

/**
 * Brokered byte streams carry chunks with a 4-byte big-endian length and end with a zero-length
 * chunk, so the reader can tell a finished stream from one whose sender died (a raw socket shows
 * both as EOF). The cost is 4 bytes per chunk.
 */
const end = Buffer.alloc(4);

/**
 * A Writable that frames what is written into `socket`, with the socket's back-pressure. A reader
 * that stops early (it destroyed its end, or its process died) shows up here as EPIPE/ECONNRESET
 * or a close: the Writable then fails with UNAVAILABLE, so a pipeline into it rejects instead of
 * the socket's error crashing the writing process or a wait for `drain` hanging for ever. Once the
 * end marker is written, a close or error finishes the Writable instead.
 */
export function framedWriter(socket: Duplex): Writable {
  let ended = false;
  /** Set once the end marker is handed to the socket: completes `final` (at most once). */
  let finishing: (() => void) | undefined;
  const writable = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (chunk.length === 0) {
        callback();
        return;
      }
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(chunk.length, 0);
      socket.cork();
      socket.write(header);
      const flushed = socket.write(chunk);
      socket.uncork();
      if (flushed) callback();
      else socket.once("drain", () => callback());
    },
    final(callback) {
      finishing = () => {
        if (ended) return;
        ended = true;
        callback();
      };
      socket.end(end, finishing);
    },
    destroy(error, callback) {
      // No end marker: the reader reports the stream as cut short.
      socket.destroy();
      callback(error);
    },
  });
  const readerGone = (error?: Error) => {
    if (ended || writable.destroyed) return;
    // Everything, the end marker included, was handed to the socket: a reader that read the
    // marker closes at once, and under TLS or yamux that close can overtake `end`'s callback.
    if (finishing !== undefined) {
      finishing();
      return;
    }
    const why = error === undefined ? "it closed the connection" : error.message;
    writable.destroy(
      new PluginError(
        "UNAVAILABLE",
        `the reader of the brokered byte stream stopped before its end (${why}); the rest was not sent`,
        { cause: error },
      ),
    );
  };
  // `on`, not `once`: a socket may report more than one error, and each needs a listener.
  socket.on("error", readerGone);
  socket.once("close", () => readerGone());
  return writable;
}

/**
 * A Readable of the bytes framed on `socket`; it fails if the socket ends before the marker.
 * Chunk boundaries are not kept (it is a byte stream): each payload piece is handed out as a view
 * of the socket read it came in, which the consumer then owns (Node gives every read a fresh
 * buffer), so the reader copies nothing. Pieces go out one per `read()` with a high-water mark of
 * 0: a paused-mode consumer (`for await`) calling `read()` would otherwise get everything buffered
 * joined by `Buffer.concat`, a copy and as much garbage again (docs/performance.md §14).
 */
export function framedReader(socket: Duplex): Readable {
  const frames = new FrameSplitter();
  // Pieces read and not yet handed out: at most one socket read's, as the socket is paused then.
  const pending: Buffer[] = [];
  let wanted = false;
  /** Pushes the next piece, or the end once the marker is in and all is out; false if neither. */
  const handOut = (): boolean => {
    const next = pending.shift();
    if (next !== undefined) readable.push(next);
    else if (frames.ended) readable.push(null);
    else return false;
    return true;
  };
  const readable = new Readable({
    highWaterMark: 0,
    read() {
      if (handOut()) return;
      wanted = true;
      socket.resume();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  const keep = (piece: Buffer) => {
    pending.push(piece);
  };
  socket.on("data", (chunk: Buffer) => {
    if (frames.ended) return; // nothing follows the marker
    const ended = frames.feed(chunk, keep);
    if (wanted && handOut()) wanted = false;
    // Past the marker the socket reads on to the peer's FIN, so it closes; before it, one read
    // ahead is kept while the consumer works on the last piece, and the rest waits in the kernel.
    if (ended) socket.end().resume();
    else if (pending.length > 0) socket.pause();
  });
  const cutShort = () => {
    if (frames.ended || readable.destroyed) return;
    readable.destroy(
      new PluginError(
        "DATA_LOSS",
        "the brokered byte stream ended before its sender finished (the other side closed or died)",
      ),
    );
  };
  socket.once("end", cutShort);
  socket.once("close", cutShort);
  socket.on("error", (error: Error) => {
    if (!frames.ended && !readable.destroyed)
      readable.destroy(
        new PluginError("UNAVAILABLE", `the brokered byte stream failed: ${error.message}`, {
          cause: error,
        }),
      );
  });
  return readable;
}
