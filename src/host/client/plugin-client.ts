import { EventEmitter } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import { Broker } from "../../broker/broker.ts";
import type { MuxBroker } from "../../broker/mux-broker.ts";
import type { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCController } from "../../gen/plugin/grpc_controller_pb.js";
import { afterLoopTurn } from "../../internal/settle.ts";
import { signalGroup } from "../../platform/process.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { createClient } from "../../rpc/core/client.ts";
import { intercept } from "../../rpc/core/interceptors.ts";
import type { Channel, Client } from "../../rpc/core/types.ts";
import type { NetRpcInterface } from "../../rpc/netrpc/define.ts";
import type {
  CommonOptions,
  Dispensed,
  PluginEntryOf,
  PluginName,
  PluginSet,
  ReattachConfig,
  VersionedPlugins,
} from "../options.ts";
import type { Life, PluginClientEvents, PluginClientState } from "./client-life.ts";
import { publishExit } from "./client-life.ts";
import type { ClientParts } from "./client-parts.ts";
import type { ExitInfo } from "./exit-watch.ts";
import { exitedWithin, exitsWithin, hurryOn, watchExit } from "./exit-watch.ts";
import type { ExplainTarget } from "./explain-errors.ts";
import {
  brokerExitedError,
  connectionLostError,
  crashedError,
  detachedError,
  explainErrors,
  goneError,
  notGrpcError,
  notNetRpcError,
  stoppedError,
  unknownPluginError,
} from "./explain-errors.ts";
import { manage } from "./managed.ts";
import type { NetRpcConnection } from "./netrpc-connection.ts";
import { dispensedClient, pingNetRpc, watchNetRpc } from "./netrpc-dispense.ts";
import { openSideStreams } from "./side-streams.ts";

export type { PluginClientEvents, PluginClientState } from "./client-life.ts";
export type { ClientParts } from "./client-parts.ts";
export type { ExitInfo } from "./exit-watch.ts";

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
  /** go-plugin's protocol: `grpc`, or `netrpc` for a plugin whose set is net/rpc interfaces. */
  readonly protocol: "grpc" | "netrpc";
  /**
   * What the main connection speaks: `"grpc"` (HTTP/2, any go-plugin plugin), `"fast"` (a
   * plugwire plugin that accepted the fast wire; same services, same semantics), or `"netrpc"`
   * (go-plugin's net/rpc protocol: gob over yamux).
   */
  readonly wire: "grpc" | "fast" | "netrpc";
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
  /** go-plugin's MuxBroker of a net/rpc plugin (callbacks both ways); undefined on gRPC. */
  readonly muxBroker: MuxBroker | undefined;

  readonly #parts: ClientParts;
  /** The plugin's gRPC channel with every call's errors explained; none on net/rpc. */
  readonly #calls: Channel | undefined;
  readonly #netrpc: NetRpcConnection | undefined;
  /** What explaining a call's failure needs to know of this plugin. */
  readonly #target: ExplainTarget;
  readonly #plugins: PluginSet | undefined;
  readonly #logger: Logger | undefined;
  readonly #graceMs: number;
  /** Ends the side streams once the client stops or exits. */
  readonly #abort = new AbortController();
  /** Typed clients: of gRPC services by descriptor, of net/rpc plugins by name. */
  readonly #clients = new Map<DescService | string, unknown>();
  readonly #unmanage: (() => void) | undefined;
  readonly #resolveExited: (info: ExitInfo) => void;
  readonly #unwatch: () => void;
  #life: Life;

  /** @internal Made by `startPlugin` and `attachPlugin`. */
  constructor(parts: ClientParts, options: CommonOptions<PluginSet, VersionedPlugins>) {
    super();
    this.#parts = parts;
    this.name = parts.name;
    this.negotiatedVersion = parts.protocolVersion;
    this.#netrpc = parts.netrpc;
    this.protocol = parts.netrpc === undefined ? "grpc" : "netrpc";
    this.wire = parts.netrpc === undefined ? (parts.wire ?? "grpc") : "netrpc";
    this.network = parts.network;
    this.address = parts.address;
    this.tls = parts.tls;
    this.pid = parts.pid;
    this.#plugins = parts.plugins ?? options.plugins;
    this.#logger = options.logger;
    this.#graceMs = options.killGraceMs ?? 2000;
    this.#life = { t: "running", view: { t: "running", pid: parts.pid }, forced: false };
    const exited = Promise.withResolvers<ExitInfo>();
    this.exited = exited.promise;
    this.#resolveExited = exited.resolve;
    this.#target = { name: this.name, launched: parts.child !== undefined, exited: this.exited };
    this.#calls =
      parts.channel === undefined
        ? undefined
        : intercept(parts.channel, explainErrors(this.#target));
    this.broker = new Broker({ ...parts.broker, name: parts.name, logger: options.logger });
    if (parts.mux !== undefined) this.broker.multiplex(parts.mux);
    this.muxBroker = parts.netrpc?.broker;
    this.#unwatch = watchExit(parts, {
      ended: (code, signal) =>
        // Fail in-flight calls at once, without waiting for the pipes.
        this.#closeCalls(
          this.#life.t === "stopping"
            ? stoppedError(this.name)
            : crashedError(this.name, code, signal),
        ),
      lost: () => this.#closeCalls(goneError(this.name)),
      final: (code, signal) => this.#finishExit(code, signal, "exit"),
    });
    // go-plugin ties its side streams to the one connection: their end is a lost connection.
    const lost = (failure: PluginError | undefined) => this.#connectionLost(failure);
    if (parts.netrpc !== undefined) watchNetRpc(parts.netrpc, this.broker, lost);
    else
      openSideStreams({
        ...parts,
        channel: parts.channel!,
        broker: this.broker,
        logger: this.#logger,
        signal: this.#abort.signal,
        brokerStreamLost: lost,
      });
    this.#unmanage =
      options.managed === false
        ? undefined
        : manage({ kill: () => this.kill(), killNow: () => this.#killNow() });
  }

  get state(): PluginClientState {
    return this.#life.view;
  }

  /**
   * A typed client for a plugin named in the negotiated version's set (go-plugin's Dispense): a
   * gRPC service's client, or a net/rpc interface's (its first call dispenses it on the wire).
   */
  dispense<K extends PluginName<P>>(name: K): Dispensed<PluginEntryOf<P, K>> {
    const entry = this.#plugins?.[name];
    if (entry === undefined) throw unknownPluginError(this.name, name, this.#plugins);
    if (entry.kind === "service") return this.client(entry) as Dispensed<PluginEntryOf<P, K>>;
    return this.#netrpcClient(name, entry) as Dispensed<PluginEntryOf<P, K>>;
  }

  /** A typed client for any service the plugin serves; its errors are explained (`explainErrors`). */
  client<S extends DescService>(service: S): Client<S> {
    if (this.#calls === undefined) throw notGrpcError(this.name, service.typeName);
    let client = this.#clients.get(service) as Client<S> | undefined;
    if (client === undefined) {
      client = createClient(service, this.#calls);
      this.#clients.set(service, client);
    }
    return client;
  }

  /**
   * Health check (`grpc.health.v1.Health/Check` for `plugin`; `Control.Ping` on net/rpc);
   * rejects when the plugin is unhealthy or gone.
   */
  async ping(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const call = { timeoutMs: options.timeoutMs ?? 5000, signal: options.signal };
    if (this.#netrpc !== undefined) await pingNetRpc(this.#netrpc, this.#target, call);
    else await this.client(Health).check({ service: "plugin" }, call);
  }

  /** go-plugin's reattach config for this plugin (with the negotiated version, which Go omits). */
  reattachConfig(): ReattachConfig {
    return {
      protocol: this.protocol,
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
        this.#closeCalls();
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
      this.#closeCalls(detachedError(this.name));
      this.#finishExit(null, null, "detach");
      await this.exited;
      return;
    }
    const exitedInTime = await this.#askToExit(hurry);
    this.#closeCalls(stoppedError(this.name));
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
    // Whatever Shutdown (Control.Quit) answers (Go plugins drop the connection), the exit is
    // what counts.
    const options = { timeoutMs: this.#graceMs, signal: hurry };
    const asked = (
      this.#netrpc === undefined
        ? this.client(GRPCController).shutdown({}, options)
        : this.#netrpc.quit(options)
    ).catch(() => {});
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
    if (how === "exit") publishExit(this.name, this.pid, exit, life.t === "stopping");
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
      this.#netrpc?.close(brokerExitedError(this.name)),
    ]);
    await afterLoopTurn();
  }

  #setLife(life: Life): void {
    this.#life = life;
    this.emit("state", life.view);
  }

  /**
   * The connection is gone while the client runs (its broker stream, or its net/rpc session,
   * ended). go-plugin ties the side streams to that one connection and a Go plugin closes its
   * broker for good (go-plugin-protocol §5.2), so nothing can be reopened: rather than half-work,
   * calls and the broker fail with CLIENT_CLOSED and the plugin is stopped, for a supervisor to
   * start a fresh one. A dying process ends the stream a moment before its exit is seen; the
   * exit is then reported as such (docs/broker.md, "Connection loss").
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
    this.#closeCalls(reason);
    void this.broker.close(reason);
    await this.kill();
  }

  /** Fails the calls in flight and later ones with `reason`, whatever the protocol. */
  #closeCalls(reason?: PluginError): void {
    this.#parts.channel?.close(reason);
    void this.#netrpc?.close(reason);
  }

  /** The typed client of net/rpc plugin `name`, made once. */
  #netrpcClient(name: string, iface: NetRpcInterface): unknown {
    const netrpc = this.#netrpc;
    if (netrpc === undefined) throw notNetRpcError(this.name, name);
    let client = this.#clients.get(name);
    if (client === undefined) {
      client = dispensedClient(name, iface, netrpc, this.#target);
      this.#clients.set(name, client);
    }
    return client;
  }
}

/**
 * How long a broker stream that ended waits to learn whether the process died before the
 * client is failed for a lost connection (longer than a call's wait: misreading a crash as a
 * lost connection would report it as a stop).
 */
const connectionLossGraceMs = 1000;

export { defaultName } from "../options.ts";
