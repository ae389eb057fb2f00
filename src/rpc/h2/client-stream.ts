import { PluginError } from "../../errors/plugin-error.ts";
import type { ClientCall, ClientStream } from "../core/client-call.ts";
import type { Encoded } from "../core/codec.ts";
import { encodedSize } from "../core/codec.ts";
import { methodPath } from "../core/types.ts";
import type { TurnBudget } from "../fast/flow.ts";
import type { AllocationBudget } from "../grpc/framing.ts";
import { FrameDecoder } from "../grpc/framing.ts";
import { decodeGrpcMessage } from "../grpc/status-message.ts";
import { formatGrpcTimeout } from "../grpc/timeout.ts";
import { H2Error } from "./frames.ts";
import type { ResponseFields } from "./grpc-headers.ts";
import { readResponseFields, requestBlock } from "./grpc-headers.ts";
import { HeldCredit } from "./held-credit.ts";
import type { H2Stream, StreamEvents } from "./stream.ts";

/** What a client stream needs from its connection. */
export interface ClientStreamHost {
  readonly tls: boolean;
  readonly maxReceiveBytes: number;
  readonly allocationBudget: AllocationBudget;
  readonly turn: TurnBudget;
  /** Opens the HTTP/2 stream for `events` with `block` as its request headers. */
  openStream(events: StreamEvents, block: Buffer): H2Stream;
  resetStream(id: number, code: number): void;
  /** The call is over; `endedLocally` when this side ended it (deadline, cancel). */
  callReleased(endedLocally: boolean): void;
}

/**
 * One gRPC call on an HTTP/2 stream, client side: request headers and length-prefixed
 * messages out, the response head, messages and trailers in. Flow control: bytes of messages the
 * consumer has not taken yet are held; every other byte received (prefixes, partial messages,
 * unary responses) is handed back to the peer as it arrives.
 */
export class H2ClientStream implements ClientStream, StreamEvents {
  readonly #call: ClientCall;
  readonly #host: ClientStreamHost;
  readonly #stream: H2Stream;
  readonly #decoder: FrameDecoder;
  readonly #fields: ResponseFields = {
    httpStatus: undefined,
    grpcStatus: undefined,
    grpcMessage: undefined,
  };
  readonly #streamsResponses: boolean;
  /** Bytes received, bytes of messages waiting for the consumer, bytes handed back. */
  readonly #credit = new HeldCredit();

  constructor(host: ClientStreamHost, call: ClientCall, first: Encoded | undefined) {
    this.#call = call;
    this.#host = host;
    this.#decoder = new FrameDecoder(host.maxReceiveBytes, host.allocationBudget);
    const kind = call.method.methodKind;
    this.#streamsResponses = kind === "server_streaming" || kind === "bidi_streaming";
    const options = call.options;
    const timeout =
      options?.timeoutMs === undefined ? undefined : formatGrpcTimeout(options.timeoutMs);
    const block = requestBlock(methodPath(call.method), host.tls, timeout, options?.headers);
    this.#stream = host.openStream(this, block);
    if (first !== undefined) this.#stream.message(first, true);
  }

  write(body: Encoded): Promise<void> | undefined {
    if (!this.#stream.message(body, false)) return this.#stream.drained();
    return this.#host.turn.spend(encodedSize(body));
  }

  end(): void {
    this.#stream.end();
  }

  /** RST_STREAM CANCEL: the peer's handler sees its signal fire. */
  cancel(): void {
    if (!this.#stream.closed) this.#host.resetStream(this.#stream.id, H2Error.cancel);
  }

  consumed(bytes: number): void {
    this.#credit.take(bytes);
    this.#creditFreed();
  }

  release(): void {
    this.#decoder.discard();
    // A call that ended while its requests were still open (the server answered first): the
    // stream is closed here, as grpc-go does, so the connection forgets it.
    const stream = this.#stream;
    if (!stream.closed && !(stream.localEnded && stream.remoteEnded))
      this.#host.resetStream(stream.id, H2Error.noError);
    this.#host.callReleased(this.#call.endedLocally);
  }

  onHeaders(fields: string[], endStream: boolean): void {
    readResponseFields(fields, this.#fields);
    if (endStream) this.#finish();
  }

  onData(payload: Buffer, endStream: boolean, borrowed: boolean): void {
    const call = this.#call;
    this.#credit.received(payload.byteLength);
    try {
      for (const message of this.#decoder.push(payload, borrowed)) {
        if (this.#streamsResponses) this.#credit.hold(message.byteLength);
        call.receive(message);
      }
    } catch (error) {
      call.fail(PluginError.from(error, "INTERNAL"));
      return;
    }
    const pending = this.#decoder.pendingMessageBytes;
    if (pending > 0) this.#stream.expectMessage(pending);
    this.#creditFreed();
    if (endStream) this.#finish();
  }

  onReset(code: number | undefined, reason: string): void {
    const call = this.#call;
    if (call.done) return;
    if (code === undefined) {
      call.lost(new PluginError("UNAVAILABLE", `connection to the plugin failed: ${reason}`));
      return;
    }
    call.lost(
      new PluginError(
        "UNAVAILABLE",
        code === H2Error.noError
          ? "the call ended without a gRPC status (connection lost)"
          : `the call was reset by the peer (HTTP/2 error ${code})`,
      ),
    );
  }

  /** Hands back every byte received that is not a message waiting for the consumer. */
  #creditFreed(): void {
    const free = this.#credit.release();
    if (free > 0) this.#stream.credit(free);
  }

  #finish(): void {
    const call = this.#call;
    if (call.done) return;
    const { httpStatus, grpcStatus, grpcMessage } = this.#fields;
    if (grpcStatus !== undefined) {
      call.receiveStatus(Number(grpcStatus), decodeGrpcMessage(grpcMessage ?? ""));
    } else if (httpStatus !== undefined && httpStatus !== "200") {
      call.lost(new PluginError("UNKNOWN", `peer answered HTTP ${httpStatus}, not gRPC`));
    } else {
      call.lost(
        new PluginError("UNAVAILABLE", "the call ended without a gRPC status (connection lost)"),
      );
    }
  }
}
