import type {
  Http2SecureServer,
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from "node:http2";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { Encoded } from "../core/codec.ts";
import { Router } from "../core/router.ts";
import type { CallHead, ServerCall, ServerStream } from "../core/server-call.ts";
import { FrameDecoder, sessionBudget, writeFrame } from "./framing.ts";
import { encodeGrpcMessage, http2Codes } from "./status-message.ts";
import { parseGrpcTimeout } from "./timeout.ts";

export type { RpcServerOptions } from "../core/router.ts";

/**
 * The services a plugin (or a brokered server) offers, served as gRPC on `node:http2`: attach it
 * to any HTTP/2 server (plain, TLS, or sessions made from arbitrary duplex streams). The same
 * object serves fast-wire connections too (../fast/server.ts): routing, handlers and limits are
 * the call core's (`Router`, ../core/router.ts); this class adds only the HTTP/2 framing.
 */
export class RpcServer extends Router {
  /** Serves gRPC on an HTTP/2 server's `stream` events. */
  attach(server: Http2Server | Http2SecureServer): void {
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      this.handle(stream, headers),
    );
  }

  /** Serves one HTTP/2 stream as a gRPC call. */
  handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A reset or a dropped connection surfaces through 'close'; an unhandled 'error' would crash.
    stream.on("error", () => {});
    const wire = new GrpcServerStream(stream);
    const call = this.open(callHead(headers), wire);
    if (call !== undefined) wire.serve(call, this.limits.maxReceiveMessageBytes);
  }
}

/** HTTP/2 headers that frame the call rather than describe it: not handed to the handler. */
const transportHeaders = new Set([
  "te",
  "content-type",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

/**
 * A call's head from its HTTP/2 headers. The handler sees the caller's metadata and `:path`, as
 * on the fast wire: pseudo-headers and the headers gRPC itself uses stay with the framing.
 */
function callHead(headers: IncomingHttpHeaders): CallHead {
  const path = headers[":path"] ?? "";
  const metadata: Record<string, string | string[] | undefined> = { ":path": path };
  for (const name of Object.keys(headers)) {
    if (name.startsWith(":") || transportHeaders.has(name)) continue;
    metadata[name] = headers[name];
  }
  return {
    path,
    timeoutMs: parseGrpcTimeout(headers["grpc-timeout"] as string | undefined),
    headers: metadata,
  };
}

/** What a session's requests may allocate ahead of their bytes: the h2 server's connection window. */
const sessionBudgetBytes = 16 * 1024 * 1024;

/** One gRPC call's HTTP/2 stream on the server: messages in, messages and trailers out. */
class GrpcServerStream implements ServerStream {
  readonly #stream: ServerHttp2Stream;
  #started = false;
  #finished = false;
  /** Request bytes received and not yet taken by the handler. */
  #queuedBytes = 0;
  #decoder: FrameDecoder | undefined;

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream;
  }

  release(): void {
    this.#decoder?.discard();
  }

  /** Feeds the stream's bytes to `call`, pausing while the handler has requests to read. */
  serve(call: ServerCall, maxReceive: number): void {
    const stream = this.#stream;
    const decoder = new FrameDecoder(
      maxReceive,
      sessionBudget(stream.session ?? this, sessionBudgetBytes),
    );
    this.#decoder = decoder;
    stream.on("data", (chunk: Buffer) => {
      try {
        for (const payload of decoder.push(chunk)) {
          this.#queuedBytes += payload.byteLength;
          call.receive(payload);
        }
      } catch (error) {
        // An oversize or compressed message: the decoder's PluginError says which.
        const failure = PluginError.from(error, "INTERNAL");
        call.fail(failure.grpcStatus, failure.rawMessage);
        return;
      }
      if (this.#queuedBytes >= highWaterBytes && call.queued > 0) stream.pause();
    });
    stream.once("end", () => {
      if (!decoder.idle) {
        call.fail(GrpcStatus.INTERNAL, "the request stream ended inside a message");
        return;
      }
      call.endRequests();
    });
    stream.once("close", () => call.cancel("call cancelled by the caller"));
  }

  send(body: Encoded): Promise<void> | undefined {
    const stream = this.#stream;
    if (this.#finished || stream.destroyed) return undefined;
    if (!this.#started) {
      stream.respond(okHeaders, withTrailers);
      this.#started = true;
    }
    if (writeFrame(stream, body, false)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.once("drain", done);
      stream.once("close", done);
    });
  }

  reply(body: Encoded): void {
    const stream = this.#stream;
    if (this.#finished || stream.destroyed) return;
    this.#finished = true;
    stream.respond(okHeaders, withTrailers);
    stream.once("wantTrailers", sendOkTrailers);
    writeFrame(stream, body, true);
  }

  finish(status: number, message: string): void {
    const stream = this.#stream;
    if (this.#finished || stream.destroyed || stream.closed) return;
    this.#finished = true;
    if (status === GrpcStatus.OK) {
      if (this.#started) {
        stream.once("wantTrailers", sendOkTrailers);
        stream.end();
      } else {
        stream.respond({ ...okHeaders, ...okTrailers }, { endStream: true });
      }
      return;
    }
    const trailers = { "grpc-status": String(status), "grpc-message": encodeGrpcMessage(message) };
    try {
      if (stream.headersSent) {
        // Every response with a body is started with waitForTrailers, so ending it asks for them.
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end();
      } else {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...trailers },
          { endStream: true },
        );
      }
    } catch {
      stream.close(http2Codes.NGHTTP2_INTERNAL_ERROR);
    }
  }

  consumed(bytes: number): void {
    this.#queuedBytes -= bytes;
    // Resume once the handler has caught up halfway, not at every message it takes.
    if (this.#queuedBytes <= highWaterBytes / 2 && this.#stream.isPaused()) this.#stream.resume();
  }
}

/**
 * Request bytes buffered for the handler before the caller is slowed down (HTTP/2 flow control
 * does the rest): as much as a readable stream buffers by default, so small messages do not
 * pause and resume the stream at every few messages.
 */
const highWaterBytes = 64 * 1024;

// Shared per-call constants: node:http2 copies headers before use, so they are never mutated.
const okHeaders = { ":status": 200, "content-type": "application/grpc" };
const withTrailers = { waitForTrailers: true };
const okTrailers = { "grpc-status": "0" };
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(okTrailers);
}
