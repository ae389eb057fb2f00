import type { DescService } from "@bufbuild/protobuf";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { IdTable } from "../../internal/id-table.ts";
import {
  defaultIdleTimeoutMs,
  defaultMaxConcurrentCalls,
  defaultMaxMessageBytes,
} from "./limits.ts";
import type { AnyHandler, CallHead, Route, ServerStream } from "./server-call.ts";
import { ServerCall } from "./server-call.ts";
import type { HandlerBroker, ServiceRegistration } from "./types.ts";
import { methodPath } from "./types.ts";

export type { AnyHandler, CallHead, Route } from "./server-call.ts";

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
  broker?: HandlerBroker | undefined;
  /** Called with errors a handler threw that were not PluginErrors (for logging). */
  onHandlerError?: ((error: unknown, path: string) => void) | undefined;
}

/**
 * The services a server offers, whatever the wire: registration, routing by path, the limits
 * handlers run under, and every running call (so `abortAll` reaches them). A wire hands it each
 * call it receives (`open`); gRPC's `RpcServer` (../grpc/server.ts) adds the HTTP/2 side.
 */
export class Router {
  readonly #routes = new Map<string, Route>();
  readonly #services = new Map<string, DescService>();
  /** The calls being served (an IdTable, not a Set: docs/performance.md §27). */
  readonly #active = new IdTable<ServerCall>();
  readonly #onHandlerError: RpcServerOptions["onHandlerError"];
  /** @internal */
  readonly limits: {
    readonly maxReceiveMessageBytes: number;
    readonly maxSendMessageBytes: number;
    readonly maxConcurrentCalls: number;
    readonly idleTimeoutMs: number;
  };
  /** The broker handlers reach through `context.broker`. */
  readonly broker: HandlerBroker | undefined;

  constructor(options: RpcServerOptions = {}) {
    this.limits = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? defaultMaxMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes ?? defaultMaxMessageBytes,
      maxConcurrentCalls: options.maxConcurrentCalls ?? defaultMaxConcurrentCalls,
      idleTimeoutMs: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
    };
    this.#onHandlerError = options.onHandlerError;
    this.broker = options.broker;
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

  /** Aborts every running handler (their signals fire with CANCELLED). */
  abortAll(reason = "server shutting down"): void {
    for (const call of this.#active.values()) call.cancel(reason);
  }

  /**
   * Starts serving one call a wire received: routes it (UNIMPLEMENTED when nothing is
   * registered under its path), then runs its handler. Returns undefined when the call was
   * answered at once.
   * @internal
   */
  open(head: CallHead, stream: ServerStream): ServerCall | undefined {
    const route = this.#routes.get(head.path);
    if (route === undefined) {
      stream.finish(GrpcStatus.UNIMPLEMENTED, this.#unknown(head.path));
      return undefined;
    }
    const active = this.#active;
    let key = 0;
    const call = new ServerCall(this, route, head, stream, () => active.delete(key));
    key = active.insert(call);
    return call;
  }

  /**
   * The status a failed handler answers with; errors that are not PluginErrors are reported.
   * @internal
   */
  failure(error: unknown, path: string): { status: number; message: string } {
    if (!(error instanceof PluginError)) this.#onHandlerError?.(error, path);
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

  #unknown(path: string): string {
    const service = path.split("/")[1] ?? "";
    return this.#services.has(service)
      ? `unknown method ${path.split("/")[2] ?? ""} for service ${service}`
      : `unknown service ${service}`;
  }
}
