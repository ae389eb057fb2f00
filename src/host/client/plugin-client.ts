import type { ChildProcess } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { basename } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { BrokerOptions } from "../../broker/broker.ts";
import { Broker } from "../../broker/broker.ts";
import type { MuxRouter } from "../../broker/mux-transport.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCBroker } from "../../gen/plugin/grpc_broker_pb.js";
import { GRPCController } from "../../gen/plugin/grpc_controller_pb.js";
import { GRPCStdio, StdioData_Channel } from "../../gen/plugin/grpc_stdio_pb.js";
import { afterLoopTurn, settlesWithin } from "../../internal/settle.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { createClient } from "../../rpc/core/client.ts";
import type { Channel, Client } from "../../rpc/core/types.ts";
import type { CommonOptions, PluginSet, StartOptions } from "../options.ts";
import type { ReattachConfig } from "../start/reattach.ts";
import { processAlive } from "../start/reattach.ts";
import { manage } from "./managed.ts";

/** How a plugin process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when plugwire had to SIGKILL it after the grace period. */
  readonly forced: boolean;
}

/** The lifecycle of a client, as a tagged union. */
export type PluginClientState =
  | { readonly t: "running"; readonly pid: number }
  | { readonly t: "stopping"; readonly pid: number }
  | { readonly t: "exited"; readonly exit: ExitInfo };

export interface PluginClientEvents {
  exit: [ExitInfo];
  state: [PluginClientState];
}

/** What the launcher hands to a client once the handshake is done and the channel is up. */
export interface ClientParts {
  readonly name: string;
  readonly channel: Channel;
  /** The wire the main connection speaks: gRPC, or plugwire's fast wire (docs/fast-wire.md). */
  readonly wire?: "grpc" | "fast" | undefined;
  readonly protocolVersion: number;
  readonly network: Network;
  readonly address: string;
  readonly tls: boolean;
  readonly pid: number;
  readonly child?: ChildProcess | undefined;
  /** Settles when the process has exited and its pipes are drained (launched plugins). */
  readonly processDone?: Promise<void> | undefined;
  readonly test?: boolean | undefined;
  readonly syncStdout?: NodeJS.WritableStream | undefined;
  readonly syncStderr?: NodeJS.WritableStream | undefined;
  readonly processGroup?: boolean | undefined;
  /** Multiplexed mode: the connection's yamux session and stream routing. */
  readonly mux?: MuxRouter | undefined;
  /** Where and how this side serves brokered connections. */
  readonly broker: Omit<BrokerOptions, "name" | "logger">;
}

/**
 * A connected plugin: typed clients for its services, health, and a lifecycle that ends in
 * exactly one exit. `kill()` is idempotent; `await using` stops it too.
 */
export class PluginClient<
  P extends PluginSet = PluginSet,
> extends EventEmitter<PluginClientEvents> {
  readonly name: string;
  /** The application protocol version both sides agreed on. */
  readonly negotiatedVersion: number;
  readonly protocol = "grpc" as const;
  /**
   * What the main connection speaks: `"grpc"` (HTTP/2, any go-plugin plugin) or `"fast"`
   * (a plugwire plugin that accepted the fast wire; same services, same semantics).
   */
  readonly wire: "grpc" | "fast";
  readonly network: Network;
  readonly address: string;
  /** Whether the connection is mutually authenticated with AutoMTLS. */
  readonly tls: boolean;
  readonly pid: number;
  /** Settles once the plugin has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /**
   * go-plugin's broker for this connection: serve callbacks and byte streams to the plugin, and
   * dial what it serves (docs/broker.md).
   */
  readonly broker: Broker;

  readonly #parts: ClientParts;
  readonly #plugins: P | undefined;
  readonly #logger: Logger | undefined;
  readonly #graceMs: number;
  readonly #abort = new AbortController();
  readonly #clients = new Map<DescService, unknown>();
  readonly #unmanage: (() => void) | undefined;
  #state: PluginClientState;
  #killing: Promise<void> | undefined;
  #forced = false;
  #resolveExited!: (info: ExitInfo) => void;

  /** @internal Made by `startPlugin` and `attachPlugin`. */
  constructor(parts: ClientParts, options: CommonOptions<P>) {
    super();
    this.#parts = parts;
    this.name = parts.name;
    this.negotiatedVersion = parts.protocolVersion;
    this.wire = parts.wire ?? "grpc";
    this.network = parts.network;
    this.address = parts.address;
    this.tls = parts.tls;
    this.pid = parts.pid;
    this.#plugins = options.plugins;
    this.#logger = options.logger;
    this.#graceMs = options.killGraceMs ?? 2000;
    this.#state = { t: "running", pid: parts.pid };
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
    this.broker = new Broker({ ...parts.broker, name: parts.name, logger: options.logger });
    if (parts.mux !== undefined) this.broker.multiplex(parts.mux);
    this.#watchExit();
    this.#openSideStreams();
    this.#unmanage =
      options.managed === false
        ? undefined
        : manage({ kill: () => this.kill(), killNow: () => this.#killNow() });
  }

  get state(): PluginClientState {
    return this.#state;
  }

  /** A typed client for a service named in `plugins` (go-plugin's Dispense). */
  dispense<K extends keyof P & string>(name: K): Client<P[K]> {
    const service = this.#plugins?.[name];
    if (service === undefined) {
      const known = Object.keys(this.#plugins ?? {}).join(", ") || "none";
      throw new PluginError("SERVICE_UNKNOWN", `unknown plugin type: ${name} (known: ${known})`, {
        plugin: this.name,
      });
    }
    return this.client(service as P[K]);
  }

  /** A typed client for any service the plugin serves. */
  client<S extends DescService>(service: S): Client<S> {
    let client = this.#clients.get(service) as Client<S> | undefined;
    if (client === undefined) {
      client = this.#wrapErrors(createClient(service, this.#parts.channel));
      this.#clients.set(service, client);
    }
    return client;
  }

  /** Health check (`grpc.health.v1.Health/Check` for `plugin`); rejects when the plugin is unhealthy or gone. */
  async ping(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    await this.client(Health).check(
      { service: "plugin" },
      { timeoutMs: options.timeoutMs ?? 5000, signal: options.signal },
    );
  }

  /** go-plugin's reattach config for this plugin (with the negotiated version, which Go omits). */
  reattachConfig(): ReattachConfig {
    return {
      protocol: "grpc",
      protocolVersion: this.negotiatedVersion,
      addr: { network: this.network, address: this.address },
      pid: this.pid,
      test: this.#parts.test ?? false,
    };
  }

  /**
   * Stops the plugin: asks it to shut down (GRPCController/Shutdown), waits `killGraceMs` for it
   * to exit, then SIGKILLs its process group. Idempotent; resolves when it is gone.
   */
  kill(): Promise<void> {
    this.#killing ??= this.#kill();
    return this.#killing;
  }

  /** SIGKILLs the plugin (its process group) at once, without asking; resolves when it is gone. */
  async terminate(): Promise<void> {
    if (!this.#isExited()) {
      this.#forced = true;
      this.#killNow();
    }
    await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  async #kill(): Promise<void> {
    const parts = this.#parts;
    if (this.#state.t === "exited") {
      parts.channel.close();
      await this.exited;
      return;
    }
    this.#setState({ t: "stopping", pid: this.pid });
    this.#abort.abort();
    if (parts.test === true) {
      // A plugin in debug mode owns its lifetime (go-plugin: Kill does nothing for test reattach).
      parts.channel.close(
        new PluginError("CLIENT_CLOSED", "the host detached from the plugin", {
          plugin: this.name,
        }),
      );
      this.#finishExit({ code: null, signal: null, forced: false });
      await this.exited;
      return;
    }
    const graceful = this.client(GRPCController)
      .shutdown({}, { timeoutMs: this.#graceMs })
      .then(
        () => true,
        (error: unknown) => error instanceof PluginError && error.code === "UNAVAILABLE", // Go plugins drop the connection
      );
    // Up to killGraceMs for the exit once Shutdown has answered; the wait ends with the exit.
    const exitedInTime = await Promise.race([
      this.exited.then(() => true),
      graceful.then(() => settlesWithin(this.exited, this.#graceMs)),
    ]);
    parts.channel.close(
      new PluginError("CLIENT_CLOSED", "the plugin was stopped by the host", { plugin: this.name }),
    );
    if (!exitedInTime && !this.#isExited()) {
      this.#logger?.warn("plugin failed to exit gracefully", { plugin: this.name, pid: this.pid });
      this.#forced = true;
      this.#killNow();
    }
    await this.exited;
    // Children the plugin left in its group go with it.
    if (parts.processGroup === true) signalGroup(this.pid, "SIGKILL");
  }

  #isExited(): boolean {
    return this.#state.t === "exited";
  }

  /** SIGKILL now, synchronously (host exit path). */
  #killNow(): void {
    if (this.#isExited() || this.#parts.test === true) return;
    if (this.#parts.processGroup === true) signalGroup(this.pid, "SIGKILL");
    else {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  #watchExit(): void {
    const { child, processDone } = this.#parts;
    if (child !== undefined && processDone !== undefined) {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        // Fail in-flight calls at once, without waiting for the pipes.
        this.#parts.channel.close(
          (this.#state as PluginClientState).t === "stopping"
            ? new PluginError("CLIENT_CLOSED", "the plugin was stopped by the host", {
                plugin: this.name,
              })
            : new PluginError(
                "PLUGIN_EXITED",
                `the plugin process exited (${signal === null ? `exit status ${code}` : `signal ${signal}`})` +
                  " unexpectedly; calls in flight were lost. Check its logs above; a supervisor can restart it.",
                { plugin: this.name, details: { code, signal } },
              ),
        );
      };
      if (child.exitCode !== null || child.signalCode !== null)
        onExit(child.exitCode, child.signalCode);
      else child.once("exit", onExit);
      // The exit is final once the pipes are drained (no log line lost), or shortly after the
      // process ended if a child of the plugin still holds them (go-plugin would hang there).
      const ended = child.exitCode !== null || child.signalCode !== null;
      void (ended ? Promise.resolve() : once(child, "exit").catch(() => {}))
        .then(() => settlesWithin(processDone, pipeDrainMs))
        .then(() =>
          this.#finishExit({
            code: child.exitCode,
            signal: child.signalCode,
            forced: this.#forced,
          }),
        );
      return;
    }
    // Reattached: poll the pid, as go-plugin does (1 s).
    const timer = setInterval(() => {
      if (!processAlive(this.pid)) {
        clearInterval(timer);
        this.#parts.channel.close(
          new PluginError("PLUGIN_EXITED", "the plugin process is gone", { plugin: this.name }),
        );
        this.#finishExit({ code: null, signal: null, forced: this.#forced });
      }
    }, 1000);
    timer.unref();
    void this.exited.then(() => clearInterval(timer));
  }

  #finishExit(info: ExitInfo): void {
    if (this.#state.t === "exited") return;
    this.#setState({ t: "exited", exit: info });
    this.#unmanage?.();
    this.#abort.abort();
    // `exited` (and so kill()) resolves once everything of this plugin is released: brokered
    // servers and connections, the multiplexed session, the process and socket handles.
    void this.#release().then(() => {
      this.#resolveExited(info);
      this.emit("exit", info);
    });
  }

  async #release(): Promise<void> {
    await Promise.allSettled([
      this.broker.close(
        new PluginError("PLUGIN_EXITED", "the plugin exited", { plugin: this.name }),
      ),
      this.#parts.mux?.session.close(),
    ]);
    await afterLoopTurn();
  }

  #setState(state: PluginClientState): void {
    this.#state = state;
    this.emit("state", state);
  }

  /** GRPCStdio and the broker stream, opened at once as go-plugin hosts do (§14.19, §14.35). */
  #openSideStreams(): void {
    const signal = this.#abort.signal;
    const { syncStdout, syncStderr } = this.#parts;
    void (async () => {
      try {
        for await (const data of createClient(GRPCStdio, this.#parts.channel).streamStdio(
          {},
          { signal },
        )) {
          const target =
            data.channel === StdioData_Channel.STDOUT
              ? syncStdout
              : data.channel === StdioData_Channel.STDERR
                ? syncStderr
                : undefined;
          // Back-pressure: while the sink is full this stream is not read, so the plugin's own
          // writes wait (credit on the fast wire, the HTTP/2 window on gRPC).
          if (target !== undefined && !target.write(data.data)) await drained(target, signal);
        }
      } catch (error) {
        if (!signal.aborted)
          this.#logger?.debug("stdio stream ended", { plugin: this.name, error });
      }
    })();
    void (async () => {
      let failure: PluginError | undefined;
      try {
        const infos = createClient(GRPCBroker, this.#parts.channel).startStream(
          this.broker.outgoing,
          { signal },
        );
        for await (const info of infos) this.broker.receive(info);
      } catch (error) {
        failure = PluginError.from(error);
        if (!signal.aborted)
          this.#logger?.debug("broker stream ended", { plugin: this.name, error });
      }
      if (signal.aborted || failure?.code === "UNIMPLEMENTED") {
        // Stopping or exited; or a plugin without go-plugin's broker service (all else works).
        void this.broker.close(
          new PluginError("CLIENT_CLOSED", "the broker stream ended", {
            plugin: this.name,
            cause: failure,
          }),
        );
        return;
      }
      await this.#brokerStreamLost(failure);
    })();
  }

  /**
   * The broker stream ended while the client runs: its connection is gone. go-plugin ties the
   * broker (and GRPCStdio) to that one connection, and a Go plugin closes its broker for good
   * when the stream ends (go-plugin-protocol §5.2), so the side streams cannot be reopened on a
   * reconnected channel. Rather than half-work (calls answered, callbacks failing), the client
   * fails: calls and the broker fail with CLIENT_CLOSED and the plugin is stopped, so that a
   * supervisor can start a fresh one. A dying process ends the stream too, a moment before its
   * exit is seen; the exit is reported as such (docs/broker.md, "Connection loss").
   */
  async #brokerStreamLost(failure: PluginError | undefined): Promise<void> {
    if (await this.#exitsWithin(connectionLossGraceMs)) return; // the exit path reports it
    if (this.#state.t !== "running") return;
    const reason = new PluginError(
      "CLIENT_CLOSED",
      "the connection to the plugin was lost while its process kept running; its broker and " +
        "stdio streams belonged to that connection and cannot be reopened (go-plugin ties them " +
        "to it), so the client is closed and the plugin stopped. A supervisor can restart it.",
      { plugin: this.name, cause: failure, details: { connectionLost: true } },
    );
    this.#logger?.warn("connection to the plugin lost; stopping it", {
      plugin: this.name,
      pid: this.pid,
      error: failure,
    });
    this.#parts.channel.close(reason);
    void this.broker.close(reason);
    await this.kill();
  }

  /** Whether the plugin process exits within `ms` (or already has). */
  async #exitsWithin(ms: number): Promise<boolean> {
    const child = this.#parts.child;
    if (child === undefined) {
      // Reattached: the exit watcher polls the pid; look now and after the wait.
      if (!processAlive(this.pid)) return true;
      return (await settlesWithin(this.exited, ms)) || !processAlive(this.pid);
    }
    if (child.exitCode !== null || child.signalCode !== null) return true;
    const stop = new AbortController();
    try {
      return await settlesWithin(once(child, "exit", { signal: stop.signal }), ms);
    } finally {
      stop.abort();
    }
  }

  /**
   * Errors name the plugin, and a connection lost because the process died becomes PLUGIN_EXITED:
   * the socket usually reports the reset a moment before the exit is seen, so wait briefly.
   */
  async #explain(error: unknown): Promise<PluginError> {
    const failure = PluginError.from(error).withPlugin(this.name);
    if (failure.code !== "UNAVAILABLE" || this.#parts.child === undefined) return failure;
    const exited = await settlesWithin(this.exited, exitGraceMs);
    if (!exited || (this.#state as PluginClientState).t !== "exited") return failure;
    const { exitCode: code, signalCode: signal } = this.#parts.child;
    return new PluginError(
      "PLUGIN_EXITED",
      `the plugin process exited (${signal === null ? `exit status ${code}` : `signal ${signal}`}) during the call; ` +
        "check its logs. A supervisor can restart it.",
      { plugin: this.name, cause: failure, details: { code, signal } },
    );
  }

  #wrapErrors<C>(client: C): C {
    const wrapped: Record<string, unknown> = {};
    for (const [key, fn] of Object.entries(
      client as Record<string, (...args: unknown[]) => unknown>,
    )) {
      wrapped[key] = (...args: unknown[]) => {
        const result = fn(...args);
        if (result instanceof Promise)
          return result.catch(async (error: unknown) => Promise.reject(await this.#explain(error)));
        return this.#explainStream(result as AsyncIterable<unknown>);
      };
    }
    return wrapped as C;
  }

  async *#explainStream<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* source;
    } catch (error) {
      throw await this.#explain(error);
    }
  }
}

/** How long after the process's exit its pipes may take to drain before the exit is reported. */
const pipeDrainMs = 500;

/** How long a call that lost its connection waits to learn whether the process died. */
const exitGraceMs = 500;

/**
 * How long a broker stream that ended waits to learn whether the process died before the
 * client is failed for a lost connection (longer than a call's wait: misreading a crash as a
 * lost connection would report it as a stop).
 */
const connectionLossGraceMs = 1000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already empty
  }
}

export function defaultName(options: Pick<StartOptions<PluginSet>, "name" | "cmd">): string {
  return options.name ?? basename(options.cmd);
}

/** Resolves when `sink` drains, closes, or `signal` aborts. */
function drained(sink: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.removeListener("drain", done);
      sink.removeListener("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    sink.on("drain", done);
    sink.on("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
