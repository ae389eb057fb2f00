import { EventEmitter } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import { hostShuttingDown } from "../host/client/managed.ts";
import type { ExitInfo } from "../host/client/plugin-client.ts";
import type { PluginManifest } from "../providers/manifest.ts";
import { fetchManifest, minimalManifest } from "../providers/manifest.ts";
import type { Client } from "../rpc/core/types.ts";
import type { BreakerPolicy, RestartPolicy } from "./backoff.ts";
import {
  CrashWindow,
  defaultBreakerPolicy,
  defaultRestartPolicy,
  restartDelayMs,
} from "./backoff.ts";
import type { Connection, ConnectionInfo } from "./connection.ts";
import { supervisedClient } from "./supervised-client.ts";

/** The lifecycle of a supervised plugin, as a tagged union. */
export type ManagedPluginState =
  | { readonly t: "stopped" }
  | { readonly t: "starting" }
  | { readonly t: "running"; readonly info: ConnectionInfo; readonly sinceMs: number }
  | {
      readonly t: "crashed";
      readonly error: PluginError;
      readonly exit: ExitInfo | undefined;
      /** Crashes inside the breaker's window, this one included. */
      readonly crashes: number;
    }
  | { readonly t: "restarting"; readonly attempt: number; readonly delayMs: number }
  | { readonly t: "disabled"; readonly error: PluginError };

export type ManagedPluginStateName = ManagedPluginState["t"];

export interface ManagedPluginEvents {
  state: [ManagedPluginState];
  /** The plugin died without being asked to (or failed to start). */
  crash: [PluginError];
  /** The crash-loop breaker tripped (or `disable()` was called). */
  disabled: [PluginError];
  /** A health check failed; after `unhealthyAfter` in a row the plugin is killed and restarted. */
  unhealthy: [PluginError];
}

export interface ManagedPluginOptions {
  /** Identifier in the registry, logs and errors. */
  id: string;
  /** Starts the plugin (a process, or an in-process implementation). Must honour `signal`. */
  launch: (signal: AbortSignal) => Promise<Connection>;
  /** What is known before the plugin runs (package file, config). Default: minimal, from `id`. */
  manifest?: PluginManifest | undefined;
  /** Ask the running plugin for its manifest after each start. Default true. */
  fetchManifest?: boolean | undefined;
  /** Time allowed for the manifest call. Default 2000. */
  manifestTimeoutMs?: number | undefined;
  /** Health ping period; 0 turns pings off. Default 5000. */
  healthIntervalMs?: number | undefined;
  /** Deadline of each health ping. Default 2000. */
  healthTimeoutMs?: number | undefined;
  /** Failed pings in a row that make the manager kill and restart the plugin. Default 2. */
  unhealthyAfter?: number | undefined;
  /** Restart after a crash. Default true. */
  autoRestart?: boolean | undefined;
  restart?: Partial<RestartPolicy> | undefined;
  breaker?: Partial<BreakerPolicy> | undefined;
  /** How long a call waits for a starting or restarting plugin before failing with PLUGIN_UNAVAILABLE. Default 10000. */
  callWaitMs?: number | undefined;
}

/**
 * One supervised plugin: started lazily on first use, pinged, restarted with backoff and jitter
 * after a crash, disabled by a crash-loop breaker. Calls go through `client(service)`: a call made
 * while the plugin (re)starts waits for it (bounded by `callWaitMs`); a call in flight when the
 * plugin dies fails with PLUGIN_EXITED.
 */
export class ManagedPlugin extends EventEmitter<ManagedPluginEvents> {
  readonly id: string;
  readonly #options: ManagedPluginOptions;
  readonly #restart: RestartPolicy;
  readonly #crashes: CrashWindow;
  readonly #maxCrashes: number;
  readonly #windowMs: number;
  #state: ManagedPluginState = { t: "stopped" };
  #manifest: PluginManifest;
  #connection: Connection | undefined;
  #starting: Promise<Connection> | undefined;
  #startAbort: AbortController | undefined;
  #generation = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #restarts = 0;

  constructor(options: ManagedPluginOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#restart = { ...defaultRestartPolicy, ...options.restart };
    const breaker = { ...defaultBreakerPolicy, ...options.breaker };
    this.#maxCrashes = breaker.maxCrashes;
    this.#windowMs = breaker.windowMs;
    this.#crashes = new CrashWindow(breaker);
    this.#manifest = options.manifest ?? minimalManifest(options.id);
    // Unhandled 'error'-like events must never crash the host; 'crash' is informational.
    this.on("crash", () => {});
  }

  get state(): ManagedPluginState {
    return this.#state;
  }

  /** The last manifest known; survives crashes and stops. */
  get manifest(): PluginManifest {
    return this.#manifest;
  }

  /** How many times the supervisor restarted the plugin after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The live connection, if running. */
  get connection(): Connection | undefined {
    return this.#state.t === "running" ? this.#connection : undefined;
  }

  /** A typed client whose calls start the plugin on first use and wait out restarts. */
  client<S extends DescService>(service: S): Client<S> {
    return supervisedClient(service, (waitMs, signal) => this.ready(waitMs, signal));
  }

  /** Starts the plugin now (otherwise it starts on first use). Rejects with the start failure. */
  start(): Promise<Connection> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (hostShuttingDown()) return Promise.reject(this.#shutdownError());
    if (this.#state.t === "disabled") return Promise.reject(this.#state.error);
    if (this.#state.t === "running" && this.#connection !== undefined)
      return Promise.resolve(this.#connection);
    if (this.#starting === undefined) {
      const starting = this.#launch();
      this.#starting = starting;
      void starting.then(
        () => {
          if (this.#starting === starting) this.#starting = undefined;
        },
        () => {
          if (this.#starting === starting) this.#starting = undefined;
        },
      );
    }
    return this.#starting;
  }

  /**
   * The running connection: starts a stopped plugin, waits for a starting or restarting one (at
   * most `waitMs`, default `callWaitMs`), fails at once when it is disabled.
   */
  async ready(waitMs?: number, signal?: AbortSignal): Promise<Connection> {
    const bound = waitMs ?? this.#options.callWaitMs ?? 10_000;
    const deadline = Date.now() + bound;
    for (;;) {
      if (this.#closed) throw this.#closedError();
      signal?.throwIfAborted();
      const state = this.#state;
      switch (state.t) {
        case "running": {
          const connection = this.#connection;
          if (connection?.isAlive() === true) return connection;
          if (connection !== undefined) this.#lost(connection, undefined);
          break;
        }
        case "disabled":
          throw state.error;
        case "stopped":
          return this.start();
        case "crashed":
          if (this.#options.autoRestart === false) return this.start();
          break;
        case "starting":
        case "restarting":
          break;
      }
      await this.#nextState(deadline, bound, signal);
    }
  }

  /** Stops the plugin; the next call starts it again. */
  async stop(): Promise<void> {
    this.#generation++;
    this.#clearTimers();
    this.#startAbort?.abort(
      new PluginError("CANCELLED", "the plugin was stopped while starting", { plugin: this.id }),
    );
    const connection = this.#connection;
    const starting = this.#starting;
    this.#connection = undefined;
    this.#starting = undefined;
    if (this.#state.t !== "disabled") this.#setState({ t: "stopped" });
    await Promise.allSettled([connection?.kill(), starting]);
  }

  /** Stops the plugin for good: further calls fail with CLIENT_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stops the plugin and refuses calls until `enable()`. */
  async disable(reason = "disabled by the host"): Promise<void> {
    const error = new PluginError("PLUGIN_DISABLED", reason, { plugin: this.id });
    await this.stop();
    this.#disable(error);
  }

  /** Re-arms a disabled plugin (clears the crash history); it starts on next use. */
  enable(): void {
    if (this.#state.t !== "disabled") return;
    this.#crashes.reset();
    this.#setState({ t: "stopped" });
  }

  async #launch(): Promise<Connection> {
    const generation = this.#generation;
    const abort = new AbortController();
    this.#startAbort = abort;
    this.#setState({ t: "starting" });
    let connection: Connection;
    try {
      connection = await this.#options.launch(abort.signal);
      if (this.#options.fetchManifest !== false) {
        this.#manifest = await fetchManifest(
          connection,
          this.#manifest,
          this.#options.manifestTimeoutMs ?? 2000,
        ).catch(async (error: unknown) => {
          await connection.kill();
          throw error;
        });
      }
    } catch (error) {
      const failure = PluginError.from(error).withPlugin(this.id);
      if (generation === this.#generation && !this.#closed) this.#onCrash(failure, undefined);
      throw failure;
    }
    if (generation !== this.#generation || this.#closed) {
      await connection.kill();
      throw new PluginError("CANCELLED", "the plugin was stopped while starting", {
        plugin: this.id,
      });
    }
    this.#run(connection, generation);
    return connection;
  }

  /**
   * Takes over a connection started elsewhere (discovery starts plugins to probe them, then hands
   * them over running). Only for a stopped plugin.
   */
  adopt(connection: Connection, manifest?: PluginManifest): void {
    if (this.#state.t !== "stopped" || this.#closed)
      throw new PluginError("CONFIG_INVALID", `cannot adopt a connection while ${this.#state.t}`, {
        plugin: this.id,
      });
    if (manifest !== undefined) this.#manifest = manifest;
    this.#run(connection, this.#generation);
  }

  #run(connection: Connection, generation: number): void {
    this.#connection = connection;
    this.#setState({ t: "running", info: connection.info, sinceMs: Date.now() });
    this.#watch(connection, generation);
    this.#startHealth(connection, generation);
  }

  #watch(connection: Connection, generation: number): void {
    void connection.exited.then((exit) => {
      if (generation !== this.#generation || this.#closed) return; // stopped by the host
      this.#lost(connection, exit);
    });
  }

  /** The running connection died (seen by its exit, or by a call finding it dead): a crash. */
  #lost(connection: Connection, exit: ExitInfo | undefined): void {
    if (this.#connection !== connection) return; // already handled
    this.#connection = undefined;
    this.#clearTimers();
    const how =
      exit === undefined
        ? "the process is gone"
        : exit.signal === null
          ? `exit status ${exit.code}`
          : `signal ${exit.signal}`;
    this.#onCrash(
      new PluginError("PLUGIN_EXITED", `the plugin crashed (${how})`, {
        plugin: this.id,
        details: { code: exit?.code, signal: exit?.signal },
      }),
      exit,
    );
  }

  #onCrash(error: PluginError, exit: ExitInfo | undefined): void {
    if (hostShuttingDown()) {
      // The host is stopping its plugins: this exit is the host's doing, not a crash.
      this.#clearTimers();
      this.#setState({ t: "stopped" });
      return;
    }
    const crashes = this.#crashes.record();
    this.#setState({ t: "crashed", error, exit, crashes });
    this.emit("crash", error);
    if (this.#crashes.tripped()) {
      this.#disable(
        new PluginError(
          "PLUGIN_DISABLED",
          `disabled after ${crashes} crashes within ${this.#windowMs} ms (limit ${this.#maxCrashes}); last: ${error.rawMessage}. ` +
            "Fix the plugin, then call enable() (or restart the host) to try again.",
          { plugin: this.id, cause: error, details: { crashes } },
        ),
      );
      return;
    }
    if (this.#options.autoRestart === false) return;
    const delayMs = restartDelayMs(this.#restart, crashes);
    const generation = this.#generation;
    this.#setState({ t: "restarting", attempt: crashes, delayMs });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (generation !== this.#generation || this.#closed || hostShuttingDown()) return;
      this.#restarts++;
      this.start().catch(() => {}); // a failure is one more crash, handled in #launch
    }, delayMs);
    this.#restartTimer.unref();
  }

  #disable(error: PluginError): void {
    this.#clearTimers();
    this.#setState({ t: "disabled", error });
    this.emit("disabled", error);
  }

  #startHealth(connection: Connection, generation: number): void {
    const intervalMs = this.#options.healthIntervalMs ?? 5000;
    if (intervalMs <= 0) return;
    const timeoutMs = this.#options.healthTimeoutMs ?? 2000;
    const limit = this.#options.unhealthyAfter ?? 2;
    let failures = 0;
    let busy = false;
    this.#healthTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      connection
        .ping({ timeoutMs })
        .then(
          () => {
            failures = 0;
          },
          (error: unknown) => {
            if (generation !== this.#generation || this.#connection !== connection) return;
            failures++;
            const failure = PluginError.from(error).withPlugin(this.id);
            this.emit("unhealthy", failure);
            // Killing it (without a stop request) turns a hung plugin into a crash: restart.
            if (failures >= limit) connection.terminate();
          },
        )
        .finally(() => {
          busy = false;
        });
    }, intervalMs);
    this.#healthTimer.unref();
  }

  #clearTimers(): void {
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    if (this.#healthTimer !== undefined) clearInterval(this.#healthTimer);
    this.#restartTimer = undefined;
    this.#healthTimer = undefined;
  }

  #setState(state: ManagedPluginState): void {
    this.#state = state;
    this.emit("state", state);
  }

  #shutdownError(): PluginError {
    return new PluginError(
      "CLIENT_CLOSED",
      "the host is shutting down; the plugin is not started",
      {
        plugin: this.id,
      },
    );
  }

  #closedError(): PluginError {
    return new PluginError("CLIENT_CLOSED", "the plugin manager was closed", { plugin: this.id });
  }

  #nextState(deadline: number, boundMs: number, signal: AbortSignal | undefined): Promise<void> {
    const remaining = deadline - Date.now();
    const state = this.#state;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off("state", onState);
        signal?.removeEventListener("abort", onAbort);
      };
      const onState = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(PluginError.from(signal?.reason, "CANCELLED").withPlugin(this.id));
      };
      const timer = setTimeout(
        () => {
          done();
          reject(
            new PluginError(
              "PLUGIN_UNAVAILABLE",
              `the plugin did not become ready within ${boundMs} ms (it is ${state.t}` +
                (state.t === "crashed" || state.t === "restarting"
                  ? "; it keeps crashing, see its logs)"
                  : ")"),
              { plugin: this.id },
            ),
          );
        },
        Math.max(0, remaining),
      );
      this.on("state", onState);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
