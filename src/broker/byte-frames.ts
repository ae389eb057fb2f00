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
 * the socket's error crashing the writing process or a wait for `drain` hanging for ever.
 */
export function framedWriter(socket: Duplex): Writable {
  let ended = false;
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
      socket.end(end, () => {
        ended = true;
        callback();
      });
    },
    destroy(error, callback) {
      // No end marker: the reader reports the stream as cut short.
      socket.destroy();
      callback(error);
    },
  });
  const readerGone = (error?: Error) => {
    if (ended || writable.destroyed) return;
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
 * Chunk boundaries are not kept (it is a byte stream): each payload piece is pushed as it arrives,
 * as a view of the socket's read buffer, which the consumer then owns (Node hands every read a
 * fresh buffer). So the reader copies nothing and makes no garbage of its own (§14 of
 * docs/performance.md says why reused read buffers were measured and not taken).
 */
export function framedReader(socket: Duplex): Readable {
  const frames = new FrameSplitter();
  const readable = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      socket.resume();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  let more = true;
  const push = (piece: Buffer) => {
    more = readable.push(piece);
  };
  socket.on("data", (chunk: Buffer) => {
    more = true;
    if (frames.feed(chunk, push)) {
      readable.push(null);
      socket.end();
      return;
    }
    if (!more) socket.pause();
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
