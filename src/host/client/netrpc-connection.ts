// The host's half of go-plugin's net/rpc protocol (rpc_client.go): one yamux client session on
// the plugin's connection, its first three streams (control, stdout, stderr), Control and
// Dispenser calls on the control stream, and the MuxBroker for everything opened later.
import type { Duplex } from "node:stream";
import { MuxBroker } from "../../broker/mux-broker.ts";
import { asConnection } from "../../broker/mux-transport.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import { YamuxSession } from "../../mux/session.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { NetRpcCallOptions } from "../../rpc/netrpc/client.ts";
import { NetRpcClient } from "../../rpc/netrpc/client.ts";

/** The reply of `Control.Ping` and `Control.Quit`: Go's `struct{}`. */
const Nothing = go.struct("", {});

export interface NetRpcConnectionOptions {
  readonly name: string;
  /** The plugin's connection, TLS already around it under AutoMTLS. */
  readonly socket: Duplex;
  readonly logger?: Logger | undefined;
  readonly syncStdout?: NodeJS.WritableStream | undefined;
  readonly syncStderr?: NodeJS.WritableStream | undefined;
  /** Largest gob message accepted from the plugin. */
  readonly maxMessageBytes?: number | undefined;
  /** The MuxBroker's accept timeout. Default 5000 (go-plugin's). */
  readonly acceptTimeoutMs?: number | undefined;
}

/**
 * One net/rpc connection to a plugin, as go-plugin's RPCClient: the streams are opened in
 * go-plugin's order at once, so a Go plugin (which accepts exactly these three before anything
 * else) finds them; `dispense` runs `Dispenser.Dispense` and dials the id it answers.
 */
export class NetRpcConnection {
  readonly session: YamuxSession;
  /** go-plugin's MuxBroker of this connection: callbacks both ways. */
  readonly broker: MuxBroker;
  readonly #name: string;
  readonly #control: NetRpcClient;
  readonly #maxMessageBytes: number | undefined;
  readonly #dispensed = new Map<string, Promise<NetRpcClient>>();
  readonly #clients = new Set<NetRpcClient>();
  #closed: PluginError | undefined;

  constructor(options: NetRpcConnectionOptions) {
    this.#name = options.name;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.session = new YamuxSession(options.socket, { role: "client" });
    const control = this.session.open();
    const stdout = this.session.open();
    const stderr = this.session.open();
    this.#control = this.#client(control);
    copyInto(stdout, options.syncStdout);
    copyInto(stderr, options.syncStderr);
    this.broker = new MuxBroker(this.session, {
      name: options.name,
      logger: options.logger,
      acceptTimeoutMs: options.acceptTimeoutMs,
    });
    this.broker.run();
  }

  /** Why the connection was closed by the host (a crash, a stop), if it was. */
  get closedReason(): PluginError | undefined {
    return this.#closed;
  }

  /** `Control.Ping`: the connection and the plugin's net/rpc server answer. */
  async ping(options: NetRpcCallOptions = {}): Promise<void> {
    await this.#control.call("Control.Ping", go.bool, true, Nothing, options);
  }

  /** `Control.Quit`: the plugin's serve ends (a Go plugin then exits). */
  async quit(options: NetRpcCallOptions = {}): Promise<void> {
    await this.#control.call("Control.Quit", go.bool, true, Nothing, options);
  }

  /**
   * The net/rpc client of plugin `name` (`Dispenser.Dispense`, then a MuxBroker stream for the
   * id it answers, on which the plugin serves the object as `Plugin`). One per name: later calls
   * share it. A failed dispense is not kept, so the next call tries again.
   */
  dispense(name: string, options: NetRpcCallOptions = {}): Promise<NetRpcClient> {
    let dispensed = this.#dispensed.get(name);
    if (dispensed === undefined) {
      dispensed = this.#dispense(name, options);
      this.#dispensed.set(name, dispensed);
      dispensed.catch(() => {
        if (this.#dispensed.get(name) === dispensed) this.#dispensed.delete(name);
      });
    }
    return dispensed;
  }

  /** A net/rpc client on a stream of this connection (the broker's, say), closed with it. */
  client(stream: Duplex): NetRpcClient {
    return this.#client(stream);
  }

  /**
   * Ends the connection: calls in flight and later ones fail (the caller sees `reason` through
   * `closedReason`), the broker closes and the session with it.
   */
  close(reason?: PluginError): Promise<void> {
    this.#closed ??= reason ?? new PluginError("CLIENT_CLOSED", "the connection was closed");
    this.broker.close(this.#closed);
    for (const client of this.#clients) void client.close();
    return this.session.close();
  }

  async #dispense(name: string, options: NetRpcCallOptions): Promise<NetRpcClient> {
    const id = await this.#control.call("Dispenser.Dispense", go.string, name, go.uint32, options);
    const stream = await this.broker.dial(id, { signal: options.signal });
    return this.#client(stream);
  }

  #client(stream: Duplex): NetRpcClient {
    // Ends like a socket: the plugin's close of a net/rpc stream closes ours too.
    const client = new NetRpcClient(asConnection(stream), {
      plugin: this.#name,
      maxMessageBytes: this.#maxMessageBytes,
    });
    this.#clients.add(client);
    stream.once("close", () => this.#clients.delete(client));
    return client;
  }
}

/**
 * Copies one of the plugin's output streams into `sink` with back-pressure (a full sink stops
 * the reading, so the plugin's writes wait), never ending the sink; without one, drains it.
 */
function copyInto(stream: Duplex, sink: NodeJS.WritableStream | undefined): void {
  stream.on("error", () => {});
  if (sink === undefined) stream.resume();
  else stream.pipe(sink, { end: false });
}
