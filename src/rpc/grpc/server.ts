import { once } from "node:events";
import type {
  Http2SecureServer,
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { currentCall } from "../core/call-context.ts";
import type { Encoded } from "../core/codec.ts";
import { encodeMessage } from "../core/codec.ts";
import { encodeGrpcMessage, GrpcStatus, http2Codes } from "../core/status.ts";
import { parseGrpcTimeout, startDeadlineTimer } from "../core/timeout.ts";
import type { HandlerContext, ServiceRegistration } from "../core/types.ts";
import { methodPath } from "../core/types.ts";
import { FrameDecoder, writeFrame } from "./framing.ts";

export interface RpcServerOptions {
  /** Largest message a handler may receive. Default 256 MiB (see docs/transport.md). */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message a handler may send. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
  /**
   * Calls one connection may have running at once (HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS` on
   * gRPC; on the fast wire a call beyond it fails with RESOURCE_EXHAUSTED). Default 1000.
   */
  maxConcurrentCalls?: number | undefined;
  /**
   * A fast-wire connection with no call running for this long (one that never completed a frame
   * included) is sent a goaway and closed. Default 30000.
   */
  idleTimeoutMs?: number | undefined;
  /** The broker handlers reach through `context.broker`. */
  broker?: Broker | undefined;
  /** Called with errors a handler threw that were not PluginErrors (for logging). */
  onHandlerError?: ((error: unknown, path: string) => void) | undefined;
}

export const defaultMaxMessageBytes = 256 * 1024 * 1024;
export const defaultMaxConcurrentCalls = 1000;
export const defaultIdleTimeoutMs = 30_000;

type AnyHandler = (input: unknown, context: HandlerContext) => unknown;
/** A registered method and its handler. */
export interface Route {
  readonly method: DescMethod;
  readonly handler: AnyHandler;
}

/**
 * A gRPC router on `node:http2`: attach it to any HTTP/2 server (plain, TLS, or sessions made
 * from arbitrary duplex streams) and it serves the registered services.
 */
export class RpcServer {
  readonly #routes = new Map<string, Route>();
  readonly #services = new Map<string, DescService>();
  readonly #maxReceive: number;
  readonly #maxSend: number;
  readonly #onHandlerError: RpcServerOptions["onHandlerError"];
  readonly #active = new Set<AbortController>();
  readonly #broker: Broker | undefined;
  readonly #maxConcurrentCalls: number;
  readonly #idleTimeoutMs: number;

  constructor(options: RpcServerOptions = {}) {
    this.#maxReceive = options.maxReceiveMessageBytes ?? defaultMaxMessageBytes;
    this.#maxConcurrentCalls = options.maxConcurrentCalls ?? defaultMaxConcurrentCalls;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    this.#maxSend = options.maxSendMessageBytes ?? defaultMaxMessageBytes;
    this.#onHandlerError = options.onHandlerError;
    this.#broker = options.broker;
  }

  /** Registers every method of a service. Registering a service twice replaces it. */
  register(...registrations: ReadonlyArray<ServiceRegistration<DescService>>): this {
    for (const { service, impl } of registrations) {
      this.#services.set(service.typeName, service);
      for (const method of service.methods) {
        const handler = (impl as Record<string, AnyHandler | undefined>)[method.localName];
        if (typeof handler !== "function") {
          throw new PluginError(
            "CONFIG_INVALID",
            `service ${service.typeName} has no handler for ${method.name}`,
          );
        }
        this.#routes.set(methodPath(method), { method, handler: handler.bind(impl) });
      }
    }
    return this;
  }

  /** Names of the registered services, e.g. for reflection or `inspect`. */
  get serviceNames(): string[] {
    return [...this.#services.keys()];
  }

  /** Descriptors of the registered services, as registered (what reflection describes). */
  get services(): DescService[] {
    return [...this.#services.values()];
  }

  /** Serves gRPC on an HTTP/2 server's `stream` events. */
  attach(server: Http2Server | Http2SecureServer): void {
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      this.handle(stream, headers),
    );
  }

  /** Aborts every running handler (their signals fire with CANCELLED). */
  abortAll(reason = "server shutting down"): void {
    for (const controller of this.#active) {
      controller.abort(new PluginError("CANCELLED", reason));
    }
  }

  /**
   * The route for `/package.Service/Method`, or gRPC's UNIMPLEMENTED message for it.
   * @internal
   */
  route(path: string): Route | string {
    const route = this.#routes.get(path);
    if (route !== undefined) return route;
    const service = path.split("/")[1] ?? "";
    return this.#services.has(service)
      ? `unknown method ${path.split("/")[2] ?? ""} for service ${service}`
      : `unknown service ${service}`;
  }

  /** Tracks a running call so `abortAll` reaches it; call the returned function when it ends. */
  track(controller: AbortController): () => void {
    this.#active.add(controller);
    return () => this.#active.delete(controller);
  }

  /** The broker handlers reach through `context.broker`. */
  get broker(): Broker | undefined {
    return this.#broker;
  }

  get maxReceiveMessageBytes(): number {
    return this.#maxReceive;
  }

  get maxSendMessageBytes(): number {
    return this.#maxSend;
  }

  get maxConcurrentCalls(): number {
    return this.#maxConcurrentCalls;
  }

  get idleTimeoutMs(): number {
    return this.#idleTimeoutMs;
  }

  /** The status a failed handler answers with; errors that are not PluginErrors are reported. */
  failure(error: unknown, path: string): { status: number; message: string } {
    if (!(error instanceof PluginError)) this.#onHandlerError?.(error, path);
    return toStatus(error);
  }

  handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A reset or a dropped connection surfaces through 'close'; an unhandled 'error' would crash.
    stream.on("error", () => {});
    const path = headers[":path"] ?? "";
    const route = this.route(path);
    if (typeof route === "string") {
      respondError(stream, GrpcStatus.UNIMPLEMENTED, route);
      return;
    }
    const timeoutMs = parseGrpcTimeout(headers["grpc-timeout"] as string | undefined);
    const controller = new AbortController();
    const untrack = this.track(controller);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const stopTimer =
      timeoutMs === undefined
        ? undefined
        : startDeadlineTimer(timeoutMs, () => {
            controller.abort(new PluginError("DEADLINE_EXCEEDED", "deadline exceeded"));
            respondError(stream, GrpcStatus.DEADLINE_EXCEEDED, "context deadline exceeded");
          });
    const onClose = () => {
      stopTimer?.();
      untrack();
      if (!controller.signal.aborted && !responded.has(stream)) {
        controller.abort(new PluginError("CANCELLED", "call cancelled by the caller"));
      }
    };
    stream.once("close", onClose);
    const context: HandlerContext = {
      signal: controller.signal,
      deadline,
      requestHeaders: headers,
      timeRemainingMs: () =>
        deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
      broker: this.#broker,
    };
    const call = new ServerCall(stream, route.method, this.#maxReceive, this.#maxSend);
    currentCall
      .run(context, () => call.run(route.handler, context))
      .catch((error: unknown) => {
        const failure = this.failure(error, path);
        respondError(stream, failure.status, failure.message);
      });
  }
}

/** Streams that have sent their final status; a late error must not send a second one. */
const responded = new WeakSet<ServerHttp2Stream>();

function toStatus(error: unknown): { status: number; message: string } {
  if (error instanceof PluginError) {
    return {
      status: error.grpcStatus === GrpcStatus.OK ? GrpcStatus.UNKNOWN : error.grpcStatus,
      message: error.rawMessage,
    };
  }
  return {
    status: GrpcStatus.UNKNOWN,
    message: error instanceof Error ? error.message : String(error),
  };
}

function respondError(stream: ServerHttp2Stream, status: number, message: string): void {
  if (responded.has(stream) || stream.destroyed || stream.closed) return;
  responded.add(stream);
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

class ServerCall {
  readonly #stream: ServerHttp2Stream;
  readonly #method: DescMethod;
  readonly #decoder: FrameDecoder;
  readonly #maxSend: number;

  constructor(stream: ServerHttp2Stream, method: DescMethod, maxReceive: number, maxSend: number) {
    this.#stream = stream;
    this.#method = method;
    this.#decoder = new FrameDecoder(maxReceive);
    this.#maxSend = maxSend;
  }

  async run(handler: AnyHandler, context: HandlerContext): Promise<void> {
    const kind = this.#method.methodKind;
    if (kind === "unary" || kind === "server_streaming") {
      const request = await this.#readOne();
      const result = handler(request, context);
      if (kind === "unary") return this.#finishUnary(await result);
      return this.#finishStream(result as AsyncIterable<unknown>, context);
    }
    const result = handler(this.#readAll(), context);
    if (kind === "client_streaming") return this.#finishUnary(await result);
    return this.#finishStream(result as AsyncIterable<unknown>, context);
  }

  #readOne(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const payloads: Uint8Array[] = [];
      const stream = this.#stream;
      const onData = (chunk: Buffer) => {
        try {
          payloads.push(...this.#decoder.push(chunk));
        } catch (error) {
          cleanup();
          reject(error);
        }
      };
      const onEnd = () => {
        cleanup();
        if (payloads.length !== 1 || !this.#decoder.idle) {
          reject(
            new PluginError(
              "INTERNAL",
              `expected exactly one request message, got ${payloads.length}`,
            ),
          );
          return;
        }
        try {
          resolve(fromBinary(this.#method.input, payloads[0]!));
        } catch (error) {
          reject(
            new PluginError("INTERNAL", `cannot decode request: ${String(error)}`, {
              cause: error,
            }),
          );
        }
      };
      const onClose = () => {
        cleanup();
        reject(new PluginError("CANCELLED", "call cancelled before the request arrived"));
      };
      const cleanup = () => {
        stream.off("data", onData);
        stream.off("end", onEnd);
        stream.off("close", onClose);
      };
      stream.on("data", onData);
      stream.once("end", onEnd);
      stream.once("close", onClose);
    });
  }

  async *#readAll(): AsyncGenerator<unknown> {
    try {
      for await (const chunk of this.#stream as AsyncIterable<Buffer>) {
        for (const payload of this.#decoder.push(chunk))
          yield fromBinary(this.#method.input, payload);
      }
    } catch (error) {
      if (error instanceof PluginError) throw error;
      // The caller reset the stream or the connection dropped: for the handler, a cancellation.
      throw new PluginError("CANCELLED", "the caller cancelled the stream", { cause: error });
    }
  }

  #encode(message: unknown): Encoded {
    return encodeMessage(this.#method.output, message, this.#maxSend);
  }

  #finishUnary(message: unknown): void {
    const stream = this.#stream;
    if (responded.has(stream) || stream.destroyed) return;
    const payload = this.#encode(message);
    responded.add(stream);
    stream.respond(okHeaders, withTrailers);
    stream.once("wantTrailers", sendOkTrailers);
    writeFrame(stream, payload, true);
  }

  async #finishStream(messages: AsyncIterable<unknown>, context: HandlerContext): Promise<void> {
    const stream = this.#stream;
    let started = false;
    for await (const message of messages) {
      if (responded.has(stream) || stream.destroyed) return;
      if (!started) {
        stream.respond(okHeaders, withTrailers);
        started = true;
      }
      if (!writeFrame(stream, this.#encode(message), false)) {
        await once(stream, "drain", { signal: context.signal }).catch(() => {});
        if (context.signal.aborted) return;
      }
    }
    if (responded.has(stream) || stream.destroyed) return;
    responded.add(stream);
    if (!started) {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
        { endStream: true },
      );
      return;
    }
    stream.once("wantTrailers", sendOkTrailers);
    stream.end();
  }
}

// Shared per-call constants: node:http2 copies headers before use, so they are never mutated.
const okHeaders = { ":status": 200, "content-type": "application/grpc" };
const withTrailers = { waitForTrailers: true };
const okTrailers = { "grpc-status": "0" };
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(okTrailers);
}
