import { EventEmitter } from "node:events";
import { basename } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCController } from "../../gen/plugin/grpc_controller_pb.js";
import type { ExitMessage } from "../../internal/diagnostics.ts";
import { exitChannel } from "../../internal/diagnostics.ts";
import { afterLoopTurn } from "../../internal/settle.ts";
import { signalGroup } from "../../platform/process.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { createClient } from "../../rpc/core/client.ts";
import { intercept } from "../../rpc/core/interceptors.ts";
import type { Channel, Client } from "../../rpc/core/types.ts";
import type { CommonOptions, PluginSet, ReattachConfig, StartOptions } from "../options.ts";
import type { ClientParts } from "./client-parts.ts";
import type { ExitInfo } from "./exit-watch.ts";
import { exitedWithin, exitsWithin, hurryOn, watchExit } from "./exit-watch.ts";
import {
  brokerExitedError,
  connectionLostError,
  crashedError,
  detachedError,
  explainErrors,
  goneError,
  stoppedError,
} from "./explain-errors.ts";
import { manage } from "./managed.ts";
import { openSideStreams } from "./side-streams.ts";

export type { ClientParts } from "./client-parts.ts";
export type { ExitInfo } from "./exit-watch.ts";

/** The lifecycle of a client, as a tagged union. */
export type PluginClientState =
  | { readonly t: "running"; readonly pid: number }
  | { readonly t: "stopping"; readonly pid: number }
  | { readonly t: "exited"; readonly exit: ExitInfo };

export interface PluginClientEvents {
  exit: [ExitInfo];
  state: [PluginClientState];
}

type View<T extends PluginClientState["t"]> = Extract<PluginClientState, { t: T }>;

/**
 * Everything about a client that changes over its life, as one tagged union. `view` is what
 * `state` shows; `forced` records a SIGKILL the host sent (`ExitInfo.forced`); `stopped` is the
 * one stop every `kill()` shares, and `hurry` what a kill's signal aborts.
 */
type Life =
  | { readonly t: "running"; readonly view: View<"running">; readonly forced: boolean }
  | {
      readonly t: "stopping";
      readonly view: View<"stopping">;
      readonly forced: boolean;
      readonly stopped: Promise<void>;
      readonly hurry: AbortController;
    }
  | {
      readonly t: "exited";
      readonly view: View<"exited">;
      readonly stopped: Promise<void> | undefined;
    };

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
  /** The plugin's channel with every call's errors explained (`explainErrors`). */
  readonly #calls: Channel;
  readonly #plugins: P | undefined;
  readonly #logger: Logger | undefined;
  readonly #graceMs: number;
  /** Ends the side streams once the client stops or exits. */
  readonly #abort = new AbortController();
  readonly #clients = new Map<DescService, unknown>();
  readonly #unmanage: (() => void) | undefined;
  readonly #resolveExited: (info: ExitInfo) => void;
  readonly #unwatch: () => void;
  #life: Life;

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
    this.#life = { t: "running", view: { t: "running", pid: parts.pid }, forced: false };
    const exited = Promise.withResolvers<ExitInfo>();
    this.exited = exited.promise;
    this.#resolveExited = exited.resolve;
    this.#calls = intercept(
      parts.channel,
      explainErrors({ name: this.name, launched: parts.child !== undefined, exited: this.exited }),
    );
    this.broker = new Broker({ ...parts.broker, name: parts.name, logger: options.logger });
    if (parts.mux !== undefined) this.broker.multiplex(parts.mux);
    this.#unwatch = watchExit(parts, {
      ended: (code, signal) =>
        // Fail in-flight calls at once, without waiting for the pipes.
        parts.channel.close(
          this.#life.t === "stopping"
            ? stoppedError(this.name)
            : crashedError(this.name, code, signal),
        ),
      lost: () => parts.channel.close(goneError(this.name)),
      final: (code, signal) => this.#finishExit(code, signal, "exit"),
    });
    openSideStreams({
      name: this.name,
      channel: parts.channel,
      broker: this.broker,
      logger: this.#logger,
      syncStdout: parts.syncStdout,
      syncStderr: parts.syncStderr,
      signal: this.#abort.signal,
      brokerStreamLost: (failure) => this.#connectionLost(failure),
    });
    this.#unmanage =
      options.managed === false
        ? undefined
        : manage({ kill: () => this.kill(), killNow: () => this.#killNow() });
  }

  get state(): PluginClientState {
    return this.#life.view;
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

  /** A typed client for any service the plugin serves; its errors are explained (`explainErrors`). */
  client<S extends DescService>(service: S): Client<S> {
    let client = this.#clients.get(service) as Client<S> | undefined;
    if (client === undefined) {
      client = createClient(service, this.#calls);
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
   *
   * `signal` hurries the stop: once it aborts, what is left of the graceful phase (the Shutdown
   * call and the wait for the exit) is skipped and the process group is SIGKILLed at once (an
   * already-aborted signal SIGKILLs without asking). The promise still resolves only when the
   * process is gone, never rejects, and is shared by every call: any caller's signal hurries it.
   */
  kill(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    const life = this.#life;
    switch (life.t) {
      case "running": {
        const stop = Promise.withResolvers<void>();
        const hurry = new AbortController();
        const view = { t: "stopping", pid: this.pid } as const;
        this.#setLife({ t: "stopping", view, forced: life.forced, stopped: stop.promise, hurry });
        hurryOn(options.signal, hurry, stop.promise);
        stop.resolve(this.#stop(hurry.signal));
        return stop.promise;
      }
      case "stopping":
        hurryOn(options.signal, life.hurry, life.stopped);
        return life.stopped;
      case "exited": {
        if (life.stopped !== undefined) return life.stopped;
        this.#parts.channel.close();
        const stopped = this.exited.then(() => {});
        this.#life = { ...life, stopped };
        return stopped;
      }
    }
  }

  /** SIGKILLs the plugin (its process group) at once, without asking; resolves when it is gone. */
  async terminate(): Promise<void> {
    this.#forceKill();
    await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  /** The stop `kill()` starts (the state is `stopping`); `hurry` skips to the SIGKILL. */
  async #stop(hurry: AbortSignal): Promise<void> {
    const parts = this.#parts;
    this.#abort.abort();
    if (parts.test === true) {
      // A plugin in debug mode owns its lifetime (go-plugin: Kill does nothing for test reattach).
      parts.channel.close(detachedError(this.name));
      this.#finishExit(null, null, "detach");
      await this.exited;
      return;
    }
    const exitedInTime = await this.#askToExit(hurry);
    parts.channel.close(stoppedError(this.name));
    if (!exitedInTime && !this.#isExited()) {
      if (hurry.aborted)
        this.#logger?.debug("plugin killed at once: kill was aborted", { plugin: this.name });
      else
        this.#logger?.warn("plugin failed to exit gracefully", {
          plugin: this.name,
          pid: this.pid,
        });
      this.#forceKill();
    }
    await this.exited;
    // Children the plugin left in its group go with it.
    if (parts.processGroup === true) signalGroup(this.pid, "SIGKILL", true);
  }

  /**
   * The graceful phase: Shutdown bounded by killGraceMs, then up to killGraceMs for the exit.
   * True when the plugin exited in that time; false when it ran out or `hurry` aborted.
   */
  async #askToExit(hurry: AbortSignal): Promise<boolean> {
    if (hurry.aborted) return this.#isExited();
    // Whatever Shutdown answers (Go plugins drop the connection), the exit is what counts.
    const asked = this.client(GRPCController)
      .shutdown({}, { timeoutMs: this.#graceMs, signal: hurry })
      .catch(() => {});
    return Promise.race([
      this.exited.then(() => true),
      asked.then(() => exitedWithin(this.exited, this.#graceMs, hurry)),
    ]);
  }

  #isExited(): boolean {
    return this.#life.t === "exited";
  }

  /** SIGKILL now and record that the host forced the exit. */
  #forceKill(): void {
    const life = this.#life;
    if (life.t === "exited") return;
    this.#life = { ...life, forced: true };
    this.#killNow();
  }

  /** SIGKILL now, synchronously (host exit path). */
  #killNow(): void {
    if (this.#isExited() || this.#parts.test === true) return;
    signalGroup(this.pid, "SIGKILL", this.#parts.processGroup === true);
  }

  /** The process exited (`exit`), or the host detached from a plugin in debug mode. */
  #finishExit(code: number | null, signal: NodeJS.Signals | null, how: "exit" | "detach"): void {
    const life = this.#life;
    if (life.t === "exited") return;
    const exit: ExitInfo = { code, signal, forced: how === "exit" && life.forced };
    const stopped = life.t === "stopping" ? life.stopped : undefined;
    this.#setLife({ t: "exited", view: { t: "exited", exit }, stopped });
    this.#unwatch();
    this.#unmanage?.();
    this.#abort.abort();
    // A detached plugin goes on running: only a process that is gone is reported as exited.
    if (how === "exit" && exitChannel.hasSubscribers) {
      const message: ExitMessage = {
        plugin: this.name,
        pid: this.pid,
        code,
        signal,
        expected: life.t === "stopping",
      };
      exitChannel.publish(message);
    }
    // `exited` (and so kill()) resolves once everything of this plugin is released: brokered
    // servers and connections, the multiplexed session, the process and socket handles.
    void this.#release().then(() => {
      this.#resolveExited(exit);
      this.emit("exit", exit);
    });
  }

  async #release(): Promise<void> {
    await Promise.allSettled([
      this.broker.close(brokerExitedError(this.name)),
      this.#parts.mux?.session.close(),
    ]);
    await afterLoopTurn();
  }

  #setLife(life: Life): void {
    this.#life = life;
    this.emit("state", life.view);
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
  async #connectionLost(failure: PluginError | undefined): Promise<void> {
    if (await exitsWithin(this.#parts, this.exited, connectionLossGraceMs)) return; // the exit path reports it
    if (this.#life.t !== "running") return;
    const reason = connectionLostError(this.name, failure);
    this.#logger?.warn("connection to the plugin lost; stopping it", {
      plugin: this.name,
      pid: this.pid,
      error: failure,
    });
    this.#parts.channel.close(reason);
    void this.broker.close(reason);
    await this.kill();
  }
}

/**
 * How long a broker stream that ended waits to learn whether the process died before the
 * client is failed for a lost connection (longer than a call's wait: misreading a crash as a
 * lost connection would report it as a stop).
 */
const connectionLossGraceMs = 1000;

export function defaultName(options: Pick<StartOptions<PluginSet>, "name" | "cmd">): string {
  return options.name ?? basename(options.cmd);
}
