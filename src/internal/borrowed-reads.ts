import type { OnReadOpts, SocketConstructorOpts } from "node:net";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";

/**
 * Reads into one buffer reused for every read (Node's `onread`, docs/performance.md §20): each
 * chunk handed to `onChunk` is a view of it, valid only during the call ("borrowed").
 */
export function reusedReadBuffer(
  bytes: number,
  onChunk: (chunk: Buffer) => void,
): OnReadOpts & { buffer: Buffer } {
  const buffer = Buffer.allocUnsafeSlow(bytes);
  return {
    buffer,
    callback: (read) => {
      onChunk(buffer.subarray(0, read));
      return true;
    },
  };
}

/** A buffer of `length` bytes starting with `pieces` (the rest not yet written). */
export function gather(pieces: readonly Buffer[], length: number): Buffer {
  const whole = Buffer.allocUnsafe(length);
  let at = 0;
  for (const piece of pieces) at += piece.copy(whole, at);
  return whole;
}

/** `bytes` to keep past the read they came in: a copy when that read was borrowed. */
export function keep(bytes: Buffer, borrowed: boolean): Buffer {
  return borrowed ? Buffer.from(bytes) : bytes;
}

/** Receives a socket's reads; `borrowed`: a view of a buffer reused by the next read. */
export type ReadSink = (chunk: Buffer, borrowed: boolean) => void;

/** Where an accepted socket made to read into a reused buffer sends its reads. */
class ReadRelay {
  readonly #socket: Socket;
  #sink: ReadSink | undefined;
  /** Copies of what arrived while no one read (the bytes a reader stopped before, first). */
  #held: Buffer[] = [];

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  chunk(chunk: Buffer): void {
    if (this.#sink !== undefined) this.#sink(chunk, true);
    else this.#held.push(Buffer.from(chunk));
  }

  take(sink: ReadSink): void {
    this.#sink = sink;
    while (this.#held.length > 0 && this.#sink === sink) sink(this.#held.shift()!, false);
    this.#socket.resume();
  }

  release(unread: Buffer | undefined): void {
    this.#sink = undefined;
    this.#socket.pause();
    if (unread !== undefined && unread.byteLength > 0) this.#held.unshift(Buffer.from(unread));
  }
}

const relays = new WeakMap<Duplex, ReadRelay>();

/** The libuv stream an accepted net.Socket wraps: what `new Socket({ handle })` takes. */
interface StreamHandle {
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

function handleOf(socket: Socket): StreamHandle | undefined {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  return typeof handle?.readStart === "function" && typeof handle.useUserBuffer === "function"
    ? (handle as StreamHandle)
    : undefined;
}

/**
 * A socket a server accepted, made again around the same connection so that it reads into one
 * buffer of `bytes`, reused for every read (docs/performance.md §22): Node's `onread` exists
 * only for sockets made with it, and a server makes the sockets it accepts itself. The server
 * should accept with `pauseOnConnect`, so that nothing is read before. Read it with `readFrom`.
 * Where this cannot be done (no handle to take, bytes already buffered), `accepted` itself
 * comes back, reading as usual.
 */
export function withReusedReads(accepted: Socket, bytes: number): Socket {
  // Made so already, or handed over with bytes in its buffer (a listener that looked at them
  // unshifted them): left as it is.
  if (relays.has(accepted) || accepted.readableLength > 0) return accepted;
  const handle = handleOf(accepted);
  if (handle === undefined) return accepted;
  let relay: ReadRelay | undefined;
  const socket = new Socket({
    handle,
    readable: true,
    writable: true,
    allowHalfOpen: accepted.allowHalfOpen,
    pauseOnCreate: true, // reads start when a reader takes them
    onread: reusedReadBuffer(bytes, (chunk) => relay?.chunk(chunk)),
  } as unknown as SocketConstructorOpts);
  if ((socket as unknown as { _handle?: unknown })._handle !== handle) {
    // This Node did not take the handle: leave the accepted socket as it is.
    socket.destroy();
    return accepted;
  }
  relay = new ReadRelay(socket);
  relays.set(socket, relay);
  // The accepted socket gives up the connection without closing it, as Node does when it hands
  // a socket to a child process; its server no longer counts it (server.close() does not wait
  // for it: whoever serves the new socket ends it).
  (accepted as unknown as { _handle: unknown })._handle = null;
  accepted.destroy();
  return socket;
}

/** Node's own fields of a socket made with `onread` (net.js keeps them under symbols). */
interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

let userBufferFields: UserBufferFields | null | undefined;

/** The symbols under which every net.Socket keeps its `onread` buffer, if this Node has them. */
function fieldsOf(socket: Socket): UserBufferFields | undefined {
  if (userBufferFields === undefined) {
    const own = Object.getOwnPropertySymbols(socket);
    const named = (name: string) => own.find((symbol) => symbol.description === name);
    const [buffer, callback, generator] = [
      named("kBuffer"),
      named("kBufferCb"),
      named("kBufferGen"),
    ];
    userBufferFields = buffer && callback && generator ? { buffer, callback, generator } : null;
  }
  return userBufferFields ?? undefined;
}

/**
 * A TLS socket a server made, set to read its plaintext into one buffer of `bytes` reused for
 * every read, as `tls.connect({ onread })` does for a client (docs/performance.md §24). A server
 * makes its TLS sockets itself and Node gives them no `onread`, so this sets the fields a socket
 * made with `onread` has, on this socket, once its handshake is done and before it has read
 * anything (call it from 'secureConnection'). Read it with `readFrom`. Where this Node keeps
 * those fields differently, or bytes are already buffered, the socket reads as usual.
 */
export function withReusedTlsReads(socket: TLSSocket, bytes: number): TLSSocket {
  if (relays.has(socket) || socket.readableLength > 0) return socket;
  const fields = fieldsOf(socket);
  const handle = handleOf(socket);
  const own = socket as unknown as Record<symbol, unknown>;
  if (fields === undefined || handle === undefined || own[fields.buffer] != null) return socket;
  const relay = new ReadRelay(socket);
  const { buffer, callback } = reusedReadBuffer(bytes, (chunk) => relay.chunk(chunk));
  own[fields.buffer] = buffer;
  own[fields.callback] = callback;
  own[fields.generator] = null;
  handle.useUserBuffer(buffer);
  relays.set(socket, relay);
  // Until a reader takes them, reads are held (copied); the reader resumes the socket.
  socket.pause();
  return socket;
}

/** A reader of a socket's bytes, until it stops. */
export interface SocketReads {
  /** Stops reading (the socket pauses); `unread` is what the next reader gets first. */
  stop(unread?: Buffer): void;
}

/**
 * Reads `socket` into `sink`: borrowed views of its reused buffer when it was made with
 * `withReusedReads`, else its 'data' chunks (its own).
 */
export function readFrom(socket: Duplex, sink: ReadSink): SocketReads {
  const relay = relays.get(socket);
  if (relay !== undefined) {
    relay.take(sink);
    return { stop: (unread) => relay.release(unread) };
  }
  const onData = (chunk: Buffer) => sink(chunk, false);
  socket.on("data", onData);
  // A 'data' listener alone does not resume a socket paused explicitly (a reader before did).
  socket.resume();
  return {
    stop(unread) {
      socket.off("data", onData);
      socket.pause();
      if (unread !== undefined && unread.byteLength > 0) socket.unshift(unread);
    },
  };
}
