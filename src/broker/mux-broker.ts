import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";
import { stepError } from "../internal/step.ts";
import type { YamuxSession } from "../mux/session.ts";
import type { YamuxStream } from "../mux/stream.ts";
import type { Logger } from "../protocol/hclog.ts";
import { NetRpcClient } from "../rpc/netrpc/client.ts";
import type {
  NetRpcClientOf,
  NetRpcContext,
  NetRpcImpl,
  NetRpcInterface,
} from "../rpc/netrpc/define.ts";
import { NetRpcServer } from "../rpc/netrpc/server.ts";
import { netrpcClient } from "../rpc/netrpc/typed-client.ts";
import { idBytes, readId } from "./id-stream.ts";
import { asConnection } from "./mux-transport.ts";

/** go-plugin's MuxBroker accept timeout: how long an id waits for its stream, and a stream for its id. */
export const muxBrokerTimeoutMs = 5000;

export interface MuxBrokerOptions {
  /** Names the plugin in errors and logs. */
  readonly name?: string | undefined;
  readonly logger?: Logger | undefined;
  /**
   * How long `accept()` waits for the peer's stream, and how long a stream the peer opened waits
   * for an `accept()` of its id before it is closed. Default 5000 (go-plugin's).
   */
  readonly acceptTimeoutMs?: number | undefined;
}

/** Options of one `accept()` or `dial()`. */
export interface MuxBrokerWaitOptions {
  /** Default: the broker's `acceptTimeoutMs`. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What a net/rpc handler served over go-plugin's protocol learns: its call, and the broker. */
export interface MuxHandlerContext extends NetRpcContext {
  /** The MuxBroker of the connection the call came on: call back, or serve something more. */
  readonly broker: MuxBroker;
}

/**
 * An implementation of `I` whose handlers get a `MuxHandlerContext` (any `NetRpcImpl<I>` is one:
 * a handler that ignores the broker fits).
 */
export type MuxImpl<I extends NetRpcInterface> = {
  readonly [K in keyof NetRpcImpl<I>]: (
    args: Parameters<NetRpcImpl<I>[K]>[0],
    context: MuxHandlerContext,
  ) => ReturnType<NetRpcImpl<I>[K]>;
};

/** What `acceptAndServe` serves under an id. */
export interface MuxServed {
  readonly id: number;
  /** Settles when serving ended (the peer closed the stream, `close()`, or nobody dialled in time). */
  readonly closed: Promise<void>;
  /** Stops serving (or waiting for the peer's stream). */
  close(): Promise<void>;
}

/** Options of `client`: the service name the peer serves under (go-plugin's is `Plugin`). */
export interface MuxBrokerClientOptions extends MuxBrokerWaitOptions {
  readonly service?: string | undefined;
}

/** A stream the peer opened for an id, waiting for `accept()`, or an `accept()` waiting for it. */
type Slot =
  | { readonly t: "stream"; readonly stream: YamuxStream; readonly timer: NodeJS.Timeout }
  | { readonly t: "waiter"; readonly take: (stream: YamuxStream) => void };

/**
 * go-plugin's MuxBroker (mux_broker.go), both roles: extra yamux streams on the net/rpc
 * connection's session, each tagged with an id. `dial(id)` opens a stream and writes the id as
 * 4 bytes little-endian, and the peer's `accept(id)` answers with the same 4 bytes (the ack).
 * Ids come from `nextId()` and are the acceptor's: each side numbers the streams it accepts, so
 * the two sides' ids never collide. Callbacks both ways are built on it (`acceptAndServe` on one
 * side, a typed client from `dial` on the other).
 */
export class MuxBroker {
  readonly #session: YamuxSession;
  readonly #options: MuxBrokerOptions;
  readonly #timeoutMs: number;
  readonly #slots = new Map<number, Slot>();
  /** What `close()` ends: accepts waiting, and what `acceptAndServe` serves. */
  readonly #closers = new Set<{ close(): void }>();
  #lastId = 0;
  #closed: PluginError | undefined;

  constructor(session: YamuxSession, options: MuxBrokerOptions = {}) {
    this.#session = session;
    this.#options = options;
    this.#timeoutMs = options.acceptTimeoutMs ?? muxBrokerTimeoutMs;
  }

  /** A fresh id for the next stream this side accepts (go-plugin's NextId; wraps at 2^32). */
  nextId(): number {
    this.#lastId = (this.#lastId + 1) >>> 0;
    return this.#lastId;
  }

  /**
   * Takes every further stream the peer opens (go-plugin's Run): reads its id and hands it to the
   * `accept()` of that id. Called once the protocol's own streams have been accepted.
   * @internal
   */
  run(): void {
    void (async () => {
      for await (const stream of this.#session) void this.#arrived(stream);
    })().catch(() => {
      // The session ended; what is pending fails with the broker's close.
    });
  }

  /**
   * Waits for the peer to `dial(id)` (within `acceptTimeoutMs`), acknowledges it and returns the
   * stream. A stream that arrived before the call is taken at once.
   */
  accept(id: number, options: MuxBrokerWaitOptions = {}): Promise<Duplex> {
    return this.#take(id, options).then((stream) => {
      stream.write(idBytes(id));
      return stream;
    });
  }

  /**
   * Opens a stream for `id`, which the peer accepts: writes the id and waits for its ack. An ack
   * with another id is BROKER_ACK_MISMATCH (go-plugin's "bad ack").
   */
  async dial(id: number, options: MuxBrokerWaitOptions = {}): Promise<Duplex> {
    this.#checkOpen();
    if (options.signal?.aborted) throw stepError(options.signal, `dial of broker id ${id}`);
    const stream = this.#session.open();
    stream.write(idBytes(id));
    try {
      // The peer holds an unclaimed stream for its own timeout; allow for that and a little more.
      const ack = await readId(stream, {
        timeoutMs: (options.timeoutMs ?? this.#timeoutMs) + 1000,
        signal: options.signal,
        what: `ack for broker id ${id}`,
      });
      if (ack !== id) {
        throw new PluginError("BROKER_ACK_MISMATCH", `bad ack: ${ack} (expected ${id})`, {
          details: { id, ack },
        });
      }
      return stream;
    } catch (error) {
      stream.destroy();
      throw this.#named(error);
    }
  }

  /**
   * Serves `impl` of `iface` as `name` (go-plugin's is `Plugin`) on the stream the peer dials for
   * `id` (go-plugin's AcceptAndServe). Resolves once the accept is registered, so the id can be
   * handed to the peer right away; the peer then has `acceptTimeoutMs` to dial it (a failure is
   * logged, as go-plugin does, and ends `closed`). One connection, served until it ends.
   */
  async acceptAndServe<I extends NetRpcInterface>(
    id: number,
    name: string,
    iface: I,
    impl: MuxImpl<I>,
    options: MuxBrokerWaitOptions = {},
  ): Promise<MuxServed> {
    const server = new NetRpcServer({
      onError: (error, method) =>
        this.#options.logger?.error("brokered net/rpc handler failed", { id, method, error }),
    }).register(name, iface, this.withBroker(impl));
    const stop = new AbortController();
    const accepted = this.accept(id, {
      ...options,
      signal:
        options.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, options.signal]),
    });
    const closer = { close: () => stop.abort() };
    this.#closers.add(closer);
    const closed = accepted
      .then((stream) => server.serve(asConnection(stream), { signal: stop.signal }))
      .catch((error: unknown) => {
        if (!stop.signal.aborted)
          this.#options.logger?.error("plugin acceptAndServe error", {
            id,
            error: this.#named(error),
          });
      })
      .finally(() => {
        this.#closers.delete(closer);
        return server.close();
      });
    return {
      id,
      closed,
      close: async () => {
        stop.abort();
        await closed;
      },
    };
  }

  /** `acceptAndServe` under a fresh id, served as `Plugin`: hand `id` to the peer. */
  serve<I extends NetRpcInterface>(
    iface: I,
    impl: MuxImpl<I>,
    options: MuxBrokerWaitOptions = {},
  ): Promise<MuxServed> {
    return this.acceptAndServe(this.nextId(), "Plugin", iface, impl, options);
  }

  /**
   * The typed client of what the peer serves under `id` (`dial`, then net/rpc on the stream, as
   * go-plugin's `rpc.NewClient(conn)`); closed with the broker.
   */
  async client<I extends NetRpcInterface>(
    id: number,
    iface: I,
    options: MuxBrokerClientOptions = {},
  ): Promise<NetRpcClientOf<I>> {
    const stream = await this.dial(id, options);
    const client = new NetRpcClient(asConnection(stream), { plugin: this.#options.name });
    const closer = { close: () => void client.close() };
    this.#closers.add(closer);
    stream.once("close", () => this.#closers.delete(closer));
    return netrpcClient(client, options.service ?? "Plugin", iface);
  }

  /**
   * `impl` as a NetRpcServer runs it, each handler given this broker in its context.
   * @internal
   */
  withBroker<I extends NetRpcInterface>(impl: MuxImpl<I>): NetRpcImpl<I> {
    const handlers: Record<string, unknown> = {};
    for (const [method, handler] of Object.entries(impl) as Array<
      [string, (args: unknown, context: MuxHandlerContext) => unknown]
    >) {
      handlers[method] = (args: unknown, context: NetRpcContext) =>
        handler.call(impl, args, { ...context, broker: this });
    }
    return handlers as NetRpcImpl<I>;
  }

  /**
   * Ends the broker: accepts waiting for a stream fail with `reason`, streams nobody accepted are
   * closed, and what `acceptAndServe` serves ends. The session belongs to the connection.
   */
  close(reason?: PluginError): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason ?? new PluginError("CLIENT_CLOSED", "the broker is closed");
    for (const [id, slot] of this.#slots) {
      this.#slots.delete(id);
      if (slot.t === "stream") {
        clearTimeout(slot.timer);
        slot.stream.destroy();
      }
    }
    for (const closer of [...this.#closers]) closer.close();
    this.#closers.clear();
  }

  /** A stream the peer opened: once its id is read, it goes to that id's `accept()`. */
  async #arrived(stream: YamuxStream): Promise<void> {
    let id: number;
    try {
      id = await readId(stream, { timeoutMs: this.#timeoutMs, what: "stream id" });
    } catch {
      stream.reset();
      return;
    }
    const slot = this.#slots.get(id);
    if (this.#closed !== undefined || slot?.t === "stream") {
      // One stream per id at a time, as go-plugin (which leaves the second one hanging).
      stream.reset();
      return;
    }
    if (slot?.t === "waiter") {
      this.#slots.delete(id);
      slot.take(stream);
      return;
    }
    // Nobody accepts it in time: closed, as go-plugin's timeoutWait does.
    const timer = setTimeout(() => {
      if (this.#slots.get(id)?.t !== "stream") return;
      this.#slots.delete(id);
      stream.destroy();
    }, this.#timeoutMs);
    timer.unref();
    this.#slots.set(id, { t: "stream", stream, timer });
  }

  #take(id: number, options: MuxBrokerWaitOptions): Promise<YamuxStream> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(stepError(signal, `accept of broker id ${id}`));
    const slot = this.#slots.get(id);
    if (slot?.t === "stream") {
      this.#slots.delete(id);
      clearTimeout(slot.timer);
      return Promise.resolve(slot.stream);
    }
    if (slot?.t === "waiter") {
      return Promise.reject(
        this.#named(new PluginError("ALREADY_EXISTS", `broker id ${id} is already being accepted`)),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#closers.delete(closer);
        if (this.#slots.get(id) === waiter) this.#slots.delete(id);
      };
      const fail = (error: PluginError) => {
        done();
        reject(this.#named(error));
      };
      const waiter: Slot = {
        t: "waiter",
        take: (stream) => {
          done();
          resolve(stream);
        },
      };
      const timer = setTimeout(
        () =>
          fail(
            new PluginError(
              "DEADLINE_EXCEEDED",
              `timeout waiting for accept of broker id ${id} (${timeoutMs} ms): the other side did not dial it`,
              { details: { id, timeoutMs } },
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(stepError(signal!, `accept of broker id ${id}`));
      const closer = { close: () => fail(this.#closed!) };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#closers.add(closer);
      this.#slots.set(id, waiter);
    });
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) throw this.#closed;
  }

  #named(error: unknown): PluginError {
    const failure = PluginError.from(error);
    return this.#options.name === undefined ? failure : failure.withPlugin(this.#options.name);
  }
}
