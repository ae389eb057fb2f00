import { EventEmitter } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import { hostShuttingDown } from "../host/client/managed.ts";
import type { ExitInfo } from "../host/client/plugin-client.ts";
import type { RestartMessage } from "../internal/diagnostics.ts";
import { restartChannel } from "../internal/diagnostics.ts";
import { startStep } from "../internal/step.ts";
import type { PluginManifest } from "../providers/manifest.ts";
import { minimalManifest } from "../providers/manifest.ts";
import { createClient } from "../rpc/core/client.ts";
import type { Channel, Client } from "../rpc/core/types.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import type { Connection } from "./connection.ts";
import type { HealthOptions } from "./health-check.ts";
import { watchHealth } from "./health-check.ts";
import { nextState } from "./next-state.ts";
import type { ManagedPluginState, Phase, Running, Starting } from "./phase.ts";
import { leave, stateOf } from "./phase.ts";
import type { BreakerPolicy, RestartPolicy } from "./restart-policy.ts";
import { CrashPolicy } from "./restart-policy.ts";
import type { StartAttemptOptions, Started } from "./start-attempt.ts";
import { attemptStart } from "./start-attempt.ts";
import { supervisedChannel } from "./supervised-channel.ts";
import { supervisedNetRpc } from "./supervised-netrpc.ts";

export type { ManagedPluginState, ManagedPluginStateName } from "./phase.ts";

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
  readonly #start: StartAttemptOptions;
  readonly #health: HealthOptions;
  readonly #policy: CrashPolicy;
  readonly #channel: Channel;
  #phase: Phase = { t: "stopped" };
  /** The last manifest known; kept through crashes and stops. */
  #manifest: PluginManifest;
  #restarts = 0;

  constructor(options: ManagedPluginOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#start = {
      launch: options.launch,
      fetchManifest: options.fetchManifest !== false,
      manifestTimeoutMs: options.manifestTimeoutMs ?? 2000,
    };
    this.#health = {
      intervalMs: options.healthIntervalMs ?? 5000,
      timeoutMs: options.healthTimeoutMs ?? 2000,
      unhealthyAfter: options.unhealthyAfter ?? 2,
    };
    this.#policy = new CrashPolicy(options.restart, options.breaker);
    this.#manifest = options.manifest ?? minimalManifest(options.id);
    const closed = () => this.#phase.t === "closed";
    this.#channel = supervisedChannel((waitMs, signal) => this.ready(waitMs, signal), {
      get closed() {
        return closed();
      },
      // The plugin's lifetime is this object's (close() ends it), not that of one client.
      close: () => {},
    });
    // Unhandled 'error'-like events must never crash the host; 'crash' is informational.
    this.on("crash", () => {});
  }

  get state(): ManagedPluginState {
    return stateOf(this.#phase);
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
    return this.#phase.t === "running" ? this.#phase.connection : undefined;
  }

  /** A typed client whose calls start the plugin on first use and wait out restarts. */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.#channel);
  }

  /** The same for net/rpc plugin `name`, which `launch` must start with `iface` under that name. */
  dispense<I extends NetRpcInterface>(name: string, iface: I): NetRpcClientOf<I> {
    return supervisedNetRpc(name, iface, (waitMs, signal) => this.ready(waitMs, signal));
  }

  /** Starts the plugin now (otherwise it starts on first use). Rejects with the start failure. */
  start(): Promise<Connection> {
    const phase = this.#phase;
    if (phase.t === "closed") return Promise.reject(this.#closedError());
    if (hostShuttingDown()) return Promise.reject(this.#shutdownError());
    switch (phase.t) {
      case "disabled":
        return Promise.reject(phase.error);
      case "running":
        return Promise.resolve(phase.connection);
      case "starting":
        return phase.started;
      default:
        return this.#launch();
    }
  }

  /**
   * The running connection: starts a stopped plugin, waits for a starting or restarting one (at
   * most `waitMs`, default `callWaitMs`), fails at once when it is disabled.
   */
  async ready(waitMs?: number, signal?: AbortSignal): Promise<Connection> {
    const boundMs = waitMs ?? this.#options.callWaitMs ?? 10_000;
    using step = startStep(boundMs, signal, () => this.#unavailableError(boundMs));
    for (;;) {
      signal?.throwIfAborted();
      const phase = this.#phase;
      switch (phase.t) {
        case "closed":
          throw this.#closedError();
        case "running":
          if (phase.connection.isAlive()) return phase.connection;
          this.#lost(phase, undefined); // a crash: look again at what that made of it
          continue;
        case "disabled":
          throw phase.error;
        case "stopped":
          return this.start();
        case "crashed":
          if (this.#options.autoRestart === false) return this.start();
          break;
        case "starting":
        case "restarting":
          break;
      }
      await nextState(this.id, (listener) => this.#onStateOnce(listener), step);
    }
  }

  /** Stops the plugin; the next call starts it again. A disabled plugin stays disabled. */
  async stop(): Promise<void> {
    const { t } = this.#phase;
    if (t === "disabled" || t === "closed") return;
    await this.#halt({ t: "stopped" });
  }

  /** Stops the plugin for good: further calls fail with CLIENT_CLOSED. */
  async close(): Promise<void> {
    const phase = this.#phase;
    if (phase.t === "closed") return;
    await this.#halt({ t: "closed", shown: phase.t === "disabled" ? phase : { t: "stopped" } });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stops the plugin and refuses calls until `enable()`. */
  async disable(reason = "disabled by the host"): Promise<void> {
    if (this.#phase.t === "closed") return;
    const error = new PluginError("PLUGIN_DISABLED", reason, { plugin: this.id });
    await this.#halt({ t: "disabled", error });
  }

  /** Re-arms a disabled plugin (clears the crash history); it starts on next use. */
  enable(): void {
    if (this.#phase.t !== "disabled") return;
    this.#policy.reset();
    this.#enter({ t: "stopped" });
  }

  /**
   * Takes over a connection started elsewhere (discovery starts plugins to probe them, then hands
   * them over running). Only for a stopped plugin.
   */
  adopt(connection: Connection, manifest?: PluginManifest): void {
    if (this.#phase.t !== "stopped")
      throw new PluginError("CONFIG_INVALID", `cannot adopt a connection while ${this.#phase.t}`, {
        plugin: this.id,
      });
    if (manifest !== undefined) this.#manifest = manifest;
    this.#run(connection);
  }

  /**
   * Enters `next` (stopped, closed or disabled) at once, so nothing restarts or answers a call
   * meanwhile, then ends what the phase it left was doing: resolves once its plugin is gone.
   */
  async #halt(next: Extract<Phase, { t: "stopped" | "closed" | "disabled" }>): Promise<void> {
    const phase = this.#phase;
    this.#enter(next);
    if (next.t === "disabled") this.emit("disabled", next.error);
    if (phase.t === "starting")
      phase.abort.abort(
        new PluginError("CANCELLED", "the plugin was stopped while starting", { plugin: this.id }),
      );
    await Promise.allSettled([
      phase.t === "running" ? phase.connection.kill() : undefined,
      phase.t === "starting" ? phase.started : undefined,
    ]);
  }

  /** Begins a start; its outcome moves the plugin on (running, or crashed). */
  #launch(): Promise<Connection> {
    // A start that ends a scheduled restart is that restart, whoever asked for it first.
    if (this.#phase.t === "restarting") this.#restarts++;
    const { promise, resolve, reject } = Promise.withResolvers<Connection>();
    // Whoever started it sees a failure; a restart nobody waits for must not be an unhandled one.
    promise.catch(() => {});
    const phase: Starting = { t: "starting", started: promise, abort: new AbortController() };
    this.#enter(phase);
    this.#attempt(phase).then(resolve, reject);
    return promise;
  }

  async #attempt(phase: Starting): Promise<Connection> {
    let started: Started;
    try {
      const step = { signal: phase.abort.signal, deadline: Number.POSITIVE_INFINITY };
      started = await attemptStart(this.id, this.#start, this.#manifest, step);
    } catch (error) {
      const failure = PluginError.from(error).withPlugin(this.id);
      if (this.#phase === phase) this.#onCrash(failure, undefined);
      throw failure;
    }
    if (this.#phase !== phase) {
      await started.connection.kill();
      throw new PluginError("CANCELLED", "the plugin was stopped while starting", {
        plugin: this.id,
      });
    }
    this.#manifest = started.manifest;
    this.#run(started.connection);
    return started.connection;
  }

  #run(connection: Connection): void {
    const phase: Running = {
      t: "running",
      connection,
      sinceMs: Date.now(),
      stopHealth: watchHealth(connection, this.#health, (error) => {
        if (this.#phase !== phase) return false;
        this.emit("unhealthy", PluginError.from(error).withPlugin(this.id));
        return true;
      }),
    };
    this.#enter(phase);
    // An exit the host asked for finds the plugin in another phase already: not a crash.
    void connection.exited.then((exit) => this.#lost(phase, exit));
  }

  /** The running connection died (seen by its exit, or by a call finding it dead): a crash. */
  #lost(phase: Running, exit: ExitInfo | undefined): void {
    if (this.#phase !== phase) return; // already handled, or stopped by the host
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
      this.#enter({ t: "stopped" });
      return;
    }
    const verdict = this.#policy.crashed(this.id, error);
    const crashed: Phase = { t: "crashed", error, exit, crashes: verdict.crashes };
    this.#enter(crashed);
    this.emit("crash", error);
    if (this.#phase !== crashed) return; // a listener stopped or closed it
    if (verdict.t === "disable") {
      this.#enter({ t: "disabled", error: verdict.error });
      this.emit("disabled", verdict.error);
    } else if (this.#options.autoRestart !== false) {
      this.#scheduleRestart(verdict.crashes, verdict.delayMs, error);
    }
  }

  #scheduleRestart(attempt: number, delayMs: number, reason: PluginError): void {
    const phase: Phase = {
      t: "restarting",
      attempt,
      delayMs,
      timer: setTimeout(() => {
        if (this.#phase !== phase) return;
        // Once the host shuts down nothing is restarted: the plugin counts as stopped.
        if (hostShuttingDown()) this.#enter({ t: "stopped" });
        else this.#launch().catch(() => {}); // a failure is one more crash, handled in #attempt
      }, delayMs).unref(),
    };
    this.#enter(phase);
    if (restartChannel.hasSubscribers)
      restartChannel.publish({
        plugin: this.id,
        attempt,
        delayMs,
        reason: reason.rawMessage,
      } satisfies RestartMessage);
  }

  /** The one place the plugin changes phase: what the old phase did ends, listeners hear of it. */
  #enter(next: Phase): void {
    const previous = this.#phase;
    leave(previous);
    this.#phase = next;
    const shown = stateOf(next);
    // Closing keeps the state shown (a disabled plugin stays disabled): nothing changed to tell.
    if (shown !== stateOf(previous)) this.emit("state", shown);
  }

  #onStateOnce(listener: () => void): () => void {
    this.once("state", listener);
    return () => this.off("state", listener);
  }

  #unavailableError(boundMs: number): PluginError {
    const { t } = this.#phase;
    return new PluginError(
      "PLUGIN_UNAVAILABLE",
      `the plugin did not become ready within ${boundMs} ms (it is ${t}` +
        (t === "crashed" || t === "restarting" ? "; it keeps crashing, see its logs)" : ")"),
      { plugin: this.id },
    );
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
}
