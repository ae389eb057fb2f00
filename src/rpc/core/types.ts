import type { Readable, Writable } from "node:stream";
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { PluginError } from "../../errors/plugin-error.ts";

/** Per-call options every client method accepts. */
export interface CallOptions {
  /** Aborting cancels the call on both sides: the plugin's handler sees its signal fire. */
  signal?: AbortSignal | undefined;
  /** Deadline for the whole call, sent to the peer as `grpc-timeout`. */
  timeoutMs?: number | undefined;
  /** Extra request metadata (lower-case keys). */
  headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * A connection that carries calls, whatever the wire: `RpcChannel` (gRPC over HTTP/2) or
 * `FastChannel` (plugwire's fast wire). Typed clients are built on it with `createClient`.
 */
export interface Channel {
  readonly closed: boolean;
  /** Fails pending and future calls with `reason` and closes the connection. Idempotent. */
  close(reason?: PluginError): void;
  unary(method: DescMethod, request: unknown, options?: CallOptions): Promise<unknown>;
  serverStream(method: DescMethod, request: unknown, options?: CallOptions): AsyncIterable<unknown>;
  clientStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): Promise<unknown>;
  bidiStream(
    method: DescMethod,
    requests: AsyncIterable<unknown>,
    options?: CallOptions,
  ): AsyncIterable<unknown>;
}

/** What a handler learns about its call. */
export interface HandlerContext {
  /** Fires when the caller cancels, the deadline passes, the connection drops or the server stops. */
  readonly signal: AbortSignal;
  /** Absolute deadline (epoch milliseconds) the caller set, if any. */
  readonly deadline: number | undefined;
  /** Request metadata as received. */
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Milliseconds until the deadline, or undefined without one. */
  timeRemainingMs(): number | undefined;
  /** The go-plugin broker of this connection, to dial callbacks the caller handed over by id. */
  readonly broker: HandlerBroker | undefined;
}

/** Options of a broker dial: how long to wait for the peer's announcement, and a way to give up. */
export interface BrokerDialOptions {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Options of the broker's serve methods. */
export interface BrokerServeOptions {
  /** Ends the brokered server (or stops waiting for the peer to connect) when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** What the broker's `serve` and `acceptAndServe` take: services, then optionally `{ signal }`. */
export type ServeArgument = ServiceRegistration<DescService> | BrokerServeOptions;

/** A service served through the broker; `id` is what the peer dials. */
export interface BrokeredServer {
  readonly id: number;
  close(): Promise<void>;
}

/**
 * What a handler reaches through `context.broker`: go-plugin's broker of its connection (the
 * `Broker` class implements it). Declared here, with the call types, so that the call core does
 * not depend on the broker, which is built on the wires.
 */
export interface HandlerBroker {
  /** A fresh id to serve something under (go-plugin's NextId). */
  nextId(): number;
  /** Serves `services` on a new brokered server; hand its `id` to the peer. */
  serve(...services: ReadonlyArray<ServeArgument>): Promise<BrokeredServer>;
  /** Serves `services` under a given id (go-plugin's AcceptAndServe). */
  acceptAndServe(id: number, ...services: ReadonlyArray<ServeArgument>): Promise<BrokeredServer>;
  /** Dials a service the peer serves under `id`: a channel for typed clients. */
  dial(id: number, options?: BrokerDialOptions): Promise<Channel>;
  /** A typed client for the service the peer serves under `id`. */
  client<S extends DescService>(
    id: number,
    service: S,
    options?: BrokerDialOptions,
  ): Promise<Client<S>>;
  /** Hands a byte source to the peer; returns the id it reads it by. */
  serveReadable(source: Readable, options?: BrokerServeOptions): Promise<number>;
  /** Hands a byte sink to the peer; returns the id it writes it by. */
  serveWritable(sink: Writable, options?: BrokerServeOptions): Promise<number>;
  /** Reads a byte source the peer served under `id`. */
  dialReadable(id: number, options?: BrokerDialOptions): Promise<Readable>;
  /** Reads it as borrowed chunks, each valid until the next is asked for (no garbage per read). */
  dialBorrowedChunks(
    id: number,
    options?: BrokerDialOptions,
  ): Promise<AsyncIterableIterator<Buffer>>;
  /** Writes into a byte sink the peer served under `id`; `end()` it when done. */
  dialWritable(id: number, options?: BrokerDialOptions): Promise<Writable>;
}

/** The request message descriptor of a method. */
export type In<M extends DescMethod> = M["input"];
/** The response message descriptor of a method. */
export type Out<M extends DescMethod> = M["output"];
/** What a caller may pass for a message: any subset of its fields. */
export type Init<D extends DescMessage> = MessageInitShape<D>;
/** A message as received, every field present. */
export type Shape<D extends DescMessage> = MessageShape<D>;
/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

// biome-ignore format: reads best as a table
/** The typed client for a service: promises for unary calls, async iterables for streams. */
export type Client<S extends DescService> = {
  [K in keyof S["method"]]:
    S["method"][K] extends { methodKind: "unary" } & DescMethod
      ? (request: Init<In<S["method"][K]>>, options?: CallOptions) => Promise<Shape<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "server_streaming" } & DescMethod
      ? (request: Init<In<S["method"][K]>>, options?: CallOptions) => AsyncIterable<Shape<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "client_streaming" } & DescMethod
      ? (requests: AsyncIterable<Init<In<S["method"][K]>>>, options?: CallOptions) => Promise<Shape<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "bidi_streaming" } & DescMethod
      ? (requests: AsyncIterable<Init<In<S["method"][K]>>>, options?: CallOptions) => AsyncIterable<Shape<Out<S["method"][K]>>>
    : never;
};

// biome-ignore format: reads best as a table
/** What a plugin author implements for a service: one handler per method. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]:
    S["method"][K] extends { methodKind: "unary" } & DescMethod
      ? (request: Shape<In<S["method"][K]>>, context: HandlerContext) => Awaitable<Init<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "server_streaming" } & DescMethod
      ? (request: Shape<In<S["method"][K]>>, context: HandlerContext) => AsyncIterable<Init<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "client_streaming" } & DescMethod
      ? (requests: AsyncIterable<Shape<In<S["method"][K]>>>, context: HandlerContext) => Awaitable<Init<Out<S["method"][K]>>>
    : S["method"][K] extends { methodKind: "bidi_streaming" } & DescMethod
      ? (requests: AsyncIterable<Shape<In<S["method"][K]>>>, context: HandlerContext) => AsyncIterable<Init<Out<S["method"][K]>>>
    : never;
};

/** A service descriptor paired with its implementation, as servers register them. */
export interface ServiceRegistration<S extends DescService = DescService> {
  readonly service: S;
  readonly impl: ServiceImpl<S>;
}

/** Pairs a service with its implementation, checking the implementation's type. */
export function implement<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
): ServiceRegistration<S> {
  return { service, impl };
}

/** `/package.Service/Method`, the HTTP/2 path of a method. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}
