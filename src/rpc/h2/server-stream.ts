import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";
import type { ServerCall, ServerStream } from "../core/server-call.ts";
import type { TurnBudget } from "../fast/flow.ts";
import type { AllocationBudget } from "../grpc/framing.ts";
import { FrameDecoder } from "../grpc/framing.ts";
import { H2Error } from "./frames.ts";
import { okTrailers, responseHead, statusTrailers, trailersOnly } from "./grpc-headers.ts";
import { HeldCredit } from "./held-credit.ts";
import { contentLengthProblem } from "./rejected-request.ts";
import { trailersProblem } from "./request-head.ts";
import type { H2Stream, StreamEvents } from "./stream.ts";

/** What a served stream needs from its connection. */
export interface ServerStreamHost {
  readonly turn: TurnBudget;
  readonly allocationBudget: AllocationBudget;
  headers(id: number, block: Buffer, endStream: boolean): void;
  resetStream(id: number, code: number): void;
}

/**
 * One gRPC call served on an HTTP/2 stream: the request's messages in (held against the stream
 * window until the handler takes them), the response head, messages and trailers out. The call
 * core decides what to send; this frames it.
 */
export class H2ServerStream implements ServerStream, StreamEvents {
  readonly #host: ServerStreamHost;
  readonly #decoder: FrameDecoder;
  readonly #contentLength: number | undefined;
  #stream!: H2Stream;
  #call: ServerCall | undefined;
  #started = false;
  #finished = false;
  readonly #credit = new HeldCredit();

  constructor(host: ServerStreamHost, maxReceiveBytes: number, contentLength: number | undefined) {
    this.#host = host;
    this.#decoder = new FrameDecoder(maxReceiveBytes, host.allocationBudget);
    this.#contentLength = contentLength;
  }

  /** Binds the HTTP/2 stream; the router may answer on it at once (UNIMPLEMENTED). */
  bind(stream: H2Stream): void {
    this.#stream = stream;
  }

  /** The call the router opened on the stream. */
  serve(call: ServerCall): void {
    this.#call = call;
  }

  onHeaders(fields: string[], endStream: boolean): void {
    const problem = endStream
      ? trailersProblem(fields)
      : "a second header block without END_STREAM";
    if (problem !== undefined) {
      this.#malformed(problem);
      return;
    }
    this.#endRequests();
  }

  onData(payload: Buffer, endStream: boolean, borrowed: boolean): void {
    const call = this.#call;
    this.#credit.received(payload.byteLength);
    const problem = contentLengthProblem(
      this.#contentLength,
      this.#credit.receivedBytes,
      endStream,
    );
    if (problem !== undefined) {
      this.#malformed(problem);
      return;
    }
    if (call === undefined || call.done) {
      this.#creditFreed();
      return;
    }
    try {
      for (const message of this.#decoder.push(payload, borrowed)) {
        if (call.streamsRequests) this.#credit.hold(message.byteLength);
        call.receive(message);
      }
    } catch (error) {
      // An oversize or compressed message: the decoder's PluginError says which.
      const failure = PluginError.from(error, "INTERNAL");
      call.fail(failure.grpcStatus, failure.rawMessage);
      return;
    }
    const pending = this.#decoder.pendingMessageBytes;
    if (pending > 0) this.#stream.expectMessage(pending);
    this.#creditFreed();
    if (endStream) this.#endRequests();
  }

  onReset(): void {
    this.#call?.cancel("call cancelled by the caller");
  }

  send(body: Encoded): Promise<void> | undefined {
    if (this.#finished || this.#stream.closed) return undefined;
    this.#start();
    if (!this.#stream.message(body, false)) return this.#stream.drained();
    return this.#host.turn.spend(encodedSize(body));
  }

  reply(body: Encoded): void {
    if (this.#finished || this.#stream.closed) return;
    this.#finished = true;
    this.#start();
    this.#stream.message(body, false);
    this.#stream.trailers(okTrailers);
    this.#afterEnd();
  }

  finish(status: number, message: string): void {
    if (this.#finished || this.#stream.closed) return;
    this.#finished = true;
    this.#stream.trailers(
      !this.#started
        ? trailersOnly(status, message)
        : status === GrpcStatus.OK
          ? okTrailers
          : statusTrailers(status, message),
    );
    this.#afterEnd();
  }

  consumed(bytes: number): void {
    this.#credit.take(bytes);
    this.#creditFreed();
  }

  release(): void {
    this.#decoder.discard();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#host.headers(this.#stream.id, responseHead, false);
  }

  /**
   * The response has ended while the client may still be sending: reset the stream with
   * NO_ERROR once the end is written, as grpc-go does, so neither side keeps it open.
   */
  #afterEnd(): void {
    const stream = this.#stream;
    if (stream.remoteEnded || stream.closed) return;
    void stream.drained().then(() => {
      if (!stream.closed && stream.localEnded) this.#host.resetStream(stream.id, H2Error.noError);
    });
  }

  #endRequests(): void {
    const call = this.#call;
    if (call === undefined || call.done) return;
    if (!this.#decoder.idle) {
      call.fail(GrpcStatus.INTERNAL, "the request stream ended inside a message");
      return;
    }
    call.endRequests();
  }

  #malformed(reason: string): void {
    this.#host.resetStream(this.#stream.id, H2Error.protocol);
    this.#call?.cancel(`the request is malformed: ${reason}`);
  }

  /** Hands back every byte received that is not a request waiting for the handler. */
  #creditFreed(): void {
    const free = this.#credit.release();
    if (free > 0) this.#stream.credit(free);
  }
}
