import type { Duplex } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import type { GobTypeRegistry } from "../../gob/index.ts";
import { defaultMaxConcurrentCalls, defaultMaxMessageBytes } from "../core/limits.ts";
import type { NetRpcImpl, NetRpcInterface } from "./define.ts";
import type { NetRpcRoute, NetRpcServerShared } from "./route.ts";
import { ServedStream } from "./served-stream.ts";

/** Options of a `NetRpcServer`. */
export interface NetRpcServerOptions {
  /** Largest gob message accepted from a client; a longer one ends its connection. Default 256 MiB. */
  maxMessageBytes?: number | undefined;
  /**
   * Concrete types that interface values may hold, by name (Go's `gob.Register`): decoded as
   * their type, and encoded without naming their type each time.
   */
  registry?: GobTypeRegistry | undefined;
  /**
   * Calls one connection may have running at once; beyond it the connection is not read until
   * one finishes (Go's server has no limit; this one bounds memory). Default 1000.
   */
  maxConcurrentCalls?: number | undefined;
  /**
   * Told of what the server answers or drops without a caller to blame: a handler's error that
   * was not a PluginError (it is answered as the call's error too), a connection whose stream was
   * malformed (it is closed). For logging.
   */
  onError?: ((error: PluginError, serviceMethod: string | undefined) => void) | undefined;
}

/** Options of one `serve`. */
export interface NetRpcServeOptions {
  /** Ends this connection (its handlers see their signal fire) when it aborts. */
  signal?: AbortSignal | undefined;
}

/**
 * A server of Go's net/rpc (`rpc.NewServer`): services registered by name, each connection
 * served with its own gob streams (`serve`), calls run concurrently and answered as they finish.
 */
export class NetRpcServer {
  readonly #services = new Map<string, Map<string, NetRpcRoute>>();
  readonly #served = new Set<ServedStream>();
  readonly #shared: NetRpcServerShared;
  #closed = false;

  constructor(options: NetRpcServerOptions = {}) {
    this.#shared = {
      services: this.#services,
      maxMessageBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
      maxConcurrentCalls: options.maxConcurrentCalls ?? defaultMaxConcurrentCalls,
      onError: options.onError,
      registry: options.registry,
    };
  }

  /**
   * Serves `impl` as `name` (Go's `server.RegisterName(name, impl)`; go-plugin uses `Plugin`):
   * `name.Method` calls `impl.Method`. Every method of `iface` needs a handler; a second service
   * of the same name is CONFIG_INVALID, as Go refuses it.
   */
  register<I extends NetRpcInterface>(name: string, iface: I, impl: NetRpcImpl<I>): this {
    if (name === "") throw new PluginError("CONFIG_INVALID", "rpc.Register: no service name given");
    if (this.#services.has(name)) {
      throw new PluginError("CONFIG_INVALID", `rpc: service already defined: ${name}`);
    }
    const routes = new Map<string, NetRpcRoute>();
    const handlers = impl as Record<string, unknown>;
    for (const [method, types] of Object.entries(iface.methods)) {
      const handler = handlers[method];
      if (typeof handler !== "function") {
        throw new PluginError(
          "CONFIG_INVALID",
          `net/rpc service ${name} has no handler for ${method}: add \`${method}(args, context)\` to the implementation`,
        );
      }
      routes.set(method, {
        argsType: types.args,
        replyType: types.reply,
        handler: (args, context) => handler.call(impl, args, context),
      });
    }
    this.#services.set(name, routes);
    return this;
  }

  /**
   * Serves one connection until the client ends it, the `signal` aborts or the server closes.
   * Never rejects: what a client does wrong ends its connection (and is reported to `onError`).
   */
  serve(stream: Duplex, options: NetRpcServeOptions = {}): Promise<void> {
    if (this.#closed) {
      stream.destroy();
      return Promise.resolve();
    }
    const served = new ServedStream(stream, this.#shared, options.signal);
    this.#served.add(served);
    return served.done.then(() => {
      this.#served.delete(served);
    });
  }

  /** Ends every connection (their handlers see their signal fire); later `serve` calls end theirs at once. */
  async close(): Promise<void> {
    this.#closed = true;
    const served = [...this.#served];
    for (const one of served) one.stop();
    await Promise.all(served.map((one) => one.done));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
