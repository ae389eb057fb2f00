import { H2Error } from "./frames.ts";
import { encodeField } from "./hpack.ts";
import { trailersProblem } from "./request-head.ts";
import type { H2Stream, StreamEvents } from "./stream.ts";

/** What a rejected request needs from its connection. */
export interface RejectHost {
  headers(id: number, block: Buffer, endStream: boolean): void;
  resetStream(id: number, code: number): void;
}

/** Why DATA received so far disagrees with a request's content-length, or undefined. */
export function contentLengthProblem(
  expected: number | undefined,
  received: number,
  ended: boolean,
): string | undefined {
  if (expected === undefined) return undefined;
  if (received > expected || (ended && received !== expected))
    return `DATA of ${received} bytes against a content-length of ${expected}`;
  return undefined;
}

/**
 * An HTTP request that is not gRPC (another method or content type). It is read to its end
 * and checked like any request (trailers, content-length), its body dropped, then answered 415
 * with a line of text, as the gRPC spec asks of a server.
 */
export class RejectedRequest implements StreamEvents {
  readonly #host: RejectHost;
  readonly #contentLength: number | undefined;
  #stream!: H2Stream;
  #received = 0;

  constructor(host: RejectHost, contentLength: number | undefined) {
    this.#host = host;
    this.#contentLength = contentLength;
  }

  bind(stream: H2Stream): void {
    this.#stream = stream;
  }

  onHeaders(fields: string[], endStream: boolean): void {
    const problem = endStream
      ? trailersProblem(fields)
      : "a second header block without END_STREAM";
    if (problem !== undefined) this.#host.resetStream(this.#stream.id, H2Error.protocol);
    else this.answer();
  }

  onData(payload: Buffer, endStream: boolean): void {
    this.#received += payload.byteLength;
    this.#stream.credit(payload.byteLength);
    if (contentLengthProblem(this.#contentLength, this.#received, endStream) !== undefined) {
      this.#host.resetStream(this.#stream.id, H2Error.protocol);
      return;
    }
    if (endStream) this.answer();
  }

  onReset(): void {}

  /** Sends the 415 and its text, ending the stream. */
  answer(): void {
    if (this.#stream.closed) return;
    this.#host.headers(this.#stream.id, unsupportedHead, false);
    this.#stream.data(unsupportedText, true);
  }
}

const unsupportedHead = Buffer.concat([
  encodeField(":status", "415"),
  encodeField("content-type", "text/plain; charset=utf-8"),
]);
const unsupportedText = Buffer.from(
  "plugwire: this is a gRPC server; send POST with content-type application/grpc\n",
);
