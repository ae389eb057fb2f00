import type { Duplex } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import type { GoType } from "../../gob/index.ts";
import { zeroValue } from "../../gob/index.ts";
import { currentCall } from "../core/call-context.ts";
import type { HandlerContext } from "../core/types.ts";
import { batchedWriter } from "./batched-write.ts";
import type { NetRpcContext } from "./define.ts";
import type { ReadBody } from "./gob-stream.ts";
import { MessageReader, MessageWriter } from "./gob-stream.ts";
import type { RequestHeaderValue } from "./header.ts";
import { ErrorBody, RequestHeader, ResponseHeader } from "./header.ts";
import type { NetRpcRoute, NetRpcServerShared } from "./route.ts";

/**
 * One connection a `NetRpcServer` serves, as Go's `ServeConn` does: requests are read in order,
 * each runs at once (concurrently with the others), and each answer is written when its handler
 * finishes. A request the server cannot run (unknown service or method, an argument that does
 * not fit) is answered with Go's error text, its body read all the same, so the stream stays in
 * step.
 */
export class ServedStream {
  readonly #stream: Duplex;
  readonly #writeBatched: (bytes: Uint8Array) => boolean;
  readonly #shared: NetRpcServerShared;
  readonly #writer: MessageWriter;
  readonly #reader: MessageReader<RequestHeaderValue>;
  readonly #abort = new AbortController();
  readonly #context: HandlerContext;
  /** What every handler of this connection gets (one object: nothing in it is per call). */
  readonly #handlerContext: NetRpcContext;
  readonly #done = Promise.withResolvers<void>();
  #running = 0;
  #paused = false;

  constructor(stream: Duplex, shared: NetRpcServerShared, signal: AbortSignal | undefined) {
    this.#stream = stream;
    this.#writeBatched = batchedWriter(stream);
    this.#shared = shared;
    this.#writer = new MessageWriter(shared.registry);
    // Calls a handler makes in turn (a callback to the host, another plugin) inherit the
    // connection's signal through the call core's `currentCall`, as gRPC handlers' calls do.
    const connectionSignal = this.#abort.signal;
    this.#context = {
      signal: connectionSignal,
      deadline: undefined,
      requestHeaders: {},
      timeRemainingMs: () => undefined,
      broker: undefined,
    };
    this.#handlerContext = Object.freeze({ signal: connectionSignal });
    this.#reader = new MessageReader(
      RequestHeader,
      {
        bodyType: (header) => this.#route(header.ServiceMethod).route?.argsType,
        message: (header, body) => this.#request(header, body),
      },
      { maxMessageBytes: shared.maxMessageBytes, registry: shared.registry },
    );
    stream.on("data", (chunk: Uint8Array) => {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        this.#report(PluginError.from(error, "GOB_INVALID"), undefined);
        this.stop();
      }
    });
    stream.on("drain", () => this.#resumeIfIdle());
    // A net/rpc client that ends its side is gone (Go's Close closes the whole connection), so
    // the answers still running have no one to read them: their handlers are told to stop.
    stream.on("end", () => this.stop());
    stream.on("error", () => this.stop());
    stream.on("close", () => this.stop());
    if (signal?.aborted) this.stop();
    else signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Settles once the connection is over. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Ends the connection now: running handlers see their signal fire, their answers are dropped. */
  stop(): void {
    if (!this.#abort.signal.aborted)
      this.#abort.abort(new PluginError("CANCELLED", "the net/rpc connection ended"));
    if (!this.#stream.destroyed) this.#stream.destroy();
    this.#done.resolve();
  }

  /** The route `serviceMethod` names, or Go's error text for why there is none. */
  #route(serviceMethod: string): { route?: NetRpcRoute; error?: string } {
    const dot = serviceMethod.lastIndexOf(".");
    if (dot < 0) return { error: `rpc: service/method request ill-formed: ${serviceMethod}` };
    const service = this.#shared.services.get(serviceMethod.slice(0, dot));
    if (service === undefined) return { error: `rpc: can't find service ${serviceMethod}` };
    const route = service.get(serviceMethod.slice(dot + 1));
    if (route === undefined) return { error: `rpc: can't find method ${serviceMethod}` };
    return { route };
  }

  #request(header: RequestHeaderValue, body: ReadBody): void {
    const { route, error } = this.#route(header.ServiceMethod);
    if (route === undefined) {
      this.#answerError(header, error!);
      return;
    }
    if ("error" in body) {
      this.#answerError(header, body.error.rawMessage);
      return;
    }
    this.#running++;
    if (this.#running >= this.#shared.maxConcurrentCalls) this.#pause();
    void this.#run(route, header, body.value);
  }

  async #run(route: NetRpcRoute, header: RequestHeaderValue, args: unknown): Promise<void> {
    try {
      const reply = await currentCall.run(this.#context, () =>
        route.handler(args, this.#handlerContext),
      );
      this.#answer(header, route.replyType, reply);
    } catch (error) {
      this.#answerError(header, errorText(error));
      if (!(error instanceof PluginError))
        this.#report(PluginError.from(error), header.ServiceMethod);
    } finally {
      this.#running--;
      this.#resumeIfIdle();
    }
  }

  /** Writes a successful answer; a reply that does not fit its type is answered as an error instead. */
  #answer(header: RequestHeaderValue, replyType: GoType<unknown>, reply: unknown): void {
    if (!this.#writable()) return;
    let bytes: Uint8Array;
    try {
      // Returning nothing leaves the reply at its zero value, as a Go method that never sets
      // `*reply` does.
      const value = reply === undefined ? zeroValue(replyType) : reply;
      bytes = this.#writer.encode(ResponseHeader, response(header, ""), replyType, value);
    } catch (error) {
      const failure = PluginError.from(error, "GOB_TYPE");
      const text = `rpc: the reply of ${header.ServiceMethod} does not fit its type: ${failure.rawMessage}`;
      this.#answerError(header, text);
      this.#report(new PluginError(failure.code, text, { cause: failure }), header.ServiceMethod);
      return;
    }
    this.#write(bytes);
  }

  /** Go's error answer: the header with the text, then an empty struct as the body. */
  #answerError(header: RequestHeaderValue, text: string): void {
    if (!this.#writable()) return;
    this.#write(this.#writer.encode(ResponseHeader, response(header, text), ErrorBody, {}));
  }

  #writable(): boolean {
    return !this.#abort.signal.aborted && this.#stream.writable;
  }

  #write(bytes: Uint8Array): void {
    if (!this.#writeBatched(bytes)) this.#pause();
  }

  /** Stops reading requests: too many are running, or answers are not being read. */
  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#stream.pause();
  }

  #resumeIfIdle(): void {
    if (!this.#paused || this.#running >= this.#shared.maxConcurrentCalls) return;
    if (this.#stream.writableNeedDrain) return;
    this.#paused = false;
    this.#stream.resume();
  }

  #report(error: PluginError, serviceMethod: string | undefined): void {
    this.#shared.onError?.(error, serviceMethod);
  }
}

function response(header: RequestHeaderValue, error: string) {
  return { ServiceMethod: header.ServiceMethod, Seq: header.Seq, Error: error };
}

/** The Go error text for what a handler threw: a PluginError's message as it is, never empty. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // An empty text would read as success in net/rpc (Go checks `Error != ""`).
  return text === "" ? "rpc: the handler failed without a message" : text;
}
