import type { Broker } from "../../broker/broker.ts";
import { afterLoopTurn } from "../../internal/settle.ts";
import { onProcessExit } from "../../platform/process.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { RpcServer } from "../../rpc/grpc/server.ts";
import type { BoundAddress } from "../../transport/listen.ts";
import { exitWith } from "./exit.ts";
import type { MainListener } from "./listen.ts";
import { watchParent } from "./parent-watch.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** What a plugin server is made of, stopped in this order. */
export interface ShutdownParts {
  /** The calls' server (gRPC's, or net/rpc's servers): `abortAll` ends the running calls. */
  readonly rpc: Pick<RpcServer, "abortAll">;
  readonly broker: Pick<Broker, "close">;
  readonly listener: MainListener;
  readonly stdio: StdioCapture;
  readonly logger: Logger;
  /** Exit the process once stopped (`ServeOptions.exitProcess`). */
  readonly exitProcess: boolean;
  /** Debug mode: SIGINT stops the plugin; otherwise it is ignored, as go-plugin does. */
  readonly debug: boolean;
}

export interface StopOptions {
  /** The process's exit code, when it exits. Default 0. */
  readonly exitCode?: number | undefined;
  /** Default: the parts' `exitProcess`. */
  readonly exitProcess?: boolean | undefined;
}

type State =
  /** Built, not yet listening: nothing outside the process knows of it. */
  | { readonly t: "starting" }
  /** Listening: `triggers` (signals, parent watch, exit hook, abort) each remove one trigger. */
  | { readonly t: "serving"; readonly bound: BoundAddress; readonly triggers: Array<() => void> }
  | { readonly t: "stopping"; readonly done: Promise<void> };

/**
 * How a plugin server stops, whatever asks (the host's Shutdown, SIGTERM, the host's death,
 * `close()`, the serve signal, a cancelled start): every call is ended, the broker closed, the
 * listener closed after a grace period, the socket removed and stdio put back. Stopping twice
 * shares the first stop.
 */
export class PluginShutdown {
  readonly #parts: ShutdownParts;
  #state: State = { t: "starting" };
  readonly #closed = Promise.withResolvers<void>();

  constructor(parts: ShutdownParts) {
    this.#parts = parts;
  }

  /** Settles when the server has stopped (before the process exits, if it does). */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * The listener is bound: from now on the socket is removed however the process ends, SIGTERM
   * and the host's death stop the server, and SIGINT does in debug mode.
   */
  listening(bound: BoundAddress): void {
    if (this.#state.t !== "starting") {
      bound.cleanup(); // stopped while it was binding: the socket is not wanted any more
      return;
    }
    const { debug, logger } = this.#parts;
    const onSigterm = () => void this.stop("SIGTERM", { exitCode: 143 });
    let interrupts = 0;
    const onSigint = debug
      ? () => void this.stop("SIGINT", { exitCode: 130 })
      : () => logger.trace("plugin received interrupt signal, ignoring", { count: ++interrupts });
    process.on("SIGTERM", onSigterm);
    process.on("SIGINT", onSigint);
    this.#state = {
      t: "serving",
      bound,
      triggers: [
        onProcessExit(bound.cleanup),
        watchParent(() => void this.stop("the host process is gone")),
        () => process.off("SIGTERM", onSigterm),
        () => process.off("SIGINT", onSigint),
      ],
    };
  }

  /** Aborting `signal` stops the server (at once if it already is aborted). */
  watch(signal: AbortSignal): void {
    if (this.#state.t !== "serving") return;
    const onAbort = () => void this.stop("the serve signal was aborted");
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    this.#state.triggers.push(() => signal.removeEventListener("abort", onAbort));
  }

  /** Stops the server (idempotent); resolves when stopped, or never when the process exits. */
  stop(reason: string, options: StopOptions = {}): Promise<void> {
    if (this.#state.t === "stopping") return this.#state.done;
    const from = this.#state;
    // The state changes first: a handler that asks to stop as its call is aborted joins this stop.
    const done = Promise.withResolvers<void>();
    this.#state = { t: "stopping", done: done.promise };
    this.#stop(from, reason, options).then(done.resolve, done.reject);
    return done.promise;
  }

  async #stop(from: State, reason: string, options: StopOptions): Promise<void> {
    const { rpc, broker, listener, stdio, logger } = this.#parts;
    logger.debug("plugin shutting down", { reason });
    rpc.abortAll(reason);
    await broker.close();
    await listener.close();
    if (from.t === "serving") {
      from.bound.cleanup();
      for (const remove of from.triggers) remove();
    }
    stdio.restore();
    // Closed servers and sockets release their handles at the end of this loop turn: once
    // `closed` settles, nothing of the plugin server keeps the event loop alive.
    await afterLoopTurn();
    this.#closed.resolve();
    // Let the last log lines reach the host before the process ends.
    if (options.exitProcess ?? this.#parts.exitProcess)
      await exitWith(stdio, options.exitCode ?? 0);
  }
}
