import type { Duplex } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import type { GobTypeRegistry, GoType } from "../../gob/index.ts";
import { abortError, inheritCallOptions } from "../core/call-context.ts";
import { defaultMaxMessageBytes } from "../core/limits.ts";
import { batchedWriter } from "./batched-write.ts";
import type { ReadBody } from "./gob-stream.ts";
import { MessageReader, MessageWriter } from "./gob-stream.ts";
import type { ResponseHeaderValue } from "./header.ts";
import { RequestHeader, ResponseHeader, seqFromWire, seqToWire } from "./header.ts";
import type { PendingCallOwner } from "./pending-call.ts";
import { PendingCall } from "./pending-call.ts";

/** Options of a `NetRpcClient`. */
export interface NetRpcClientOptions {
  /** The plugin's name, shown in every error the client raises. */
  plugin?: string | undefined;
  /** Largest gob message accepted from the server; a longer one breaks the connection. Default 256 MiB. */
  maxMessageBytes?: number | undefined;
  /**
   * Concrete types that interface values may hold, by name (Go's `gob.Register`): encoded without
   * naming their type each time, and decoded as their type.
   */
  registry?: GobTypeRegistry | undefined;
}

/**
 * Options of one net/rpc call. net/rpc cannot cancel a call on the server (go-plugin's own
 * limitation): both end the call here at once, the server runs it to the end, and its late reply
 * is read and dropped.
 */
export interface NetRpcCallOptions {
  /** When it aborts, the call rejects with CANCELLED (or the abort reason, if a PluginError). */
  signal?: AbortSignal | undefined;
  /** After this many milliseconds the call rejects with DEADLINE_EXCEEDED. */
  timeoutMs?: number | undefined;
}

/**
 * A client of Go's net/rpc (`rpc.NewClient`) over one connection: any node Duplex, such as a
 * socket or a yamux stream. Calls are written as they are made and answered in any order, matched
 * by sequence number, as Go's client does. Typed clients are made from it with `netrpcClient`.
 */
export class NetRpcClient {
  readonly #stream: Duplex;
  readonly #write: (bytes: Uint8Array) => boolean;
  readonly #plugin: string | undefined;
  readonly #writer: MessageWriter;
  readonly #reader: MessageReader<ResponseHeaderValue>;
  readonly #pending = new Map<number, PendingCall>();
  #nextSeq = 0;
  #closed: PluginError | undefined;
  readonly #owner: PendingCallOwner = {
    done: (seq) => this.#pending.delete(seq),
    named: (error) => this.#named(error),
  };

  constructor(stream: Duplex, options: NetRpcClientOptions = {}) {
    this.#stream = stream;
    this.#write = batchedWriter(stream);
    this.#plugin = options.plugin;
    this.#writer = new MessageWriter(options.registry);
    this.#reader = new MessageReader(
      ResponseHeader,
      {
        bodyType: (header) =>
          header.Error === "" ? this.#pending.get(seqFromWire(header.Seq))?.replyType : undefined,
        message: (header, body) => this.#answer(header, body),
      },
      {
        maxMessageBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
        registry: options.registry,
      },
    );
    stream.on("data", (chunk: Uint8Array) => {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        this.#broken(error);
      }
    });
    stream.on("error", (error: Error) => this.#lost(error));
    stream.on("end", () => this.#lost(undefined));
    stream.on("close", () => this.#lost(undefined));
  }

  /** Whether the client was closed or its connection lost: every call fails. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Calls in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Calls `serviceMethod` (`Plugin.Greet`) with `args` of `argsType` and resolves with the reply
   * decoded as `replyType`. Rejects with GOB_TYPE before anything is written when `args` does not
   * fit `argsType`; with NETRPC_ERROR when the method returned an error (its text in the message
   * and `details.error`); with UNAVAILABLE when the connection is lost; CLIENT_CLOSED after
   * `close()`; CANCELLED or DEADLINE_EXCEEDED from the options.
   */
  async call<A, R>(
    serviceMethod: string,
    argsType: GoType<A>,
    args: A,
    replyType: GoType<R>,
    options?: NetRpcCallOptions,
  ): Promise<R> {
    if (this.#closed !== undefined) throw this.#closed;
    const own = inheritCallOptions(options);
    const signal = own?.signal;
    if (signal?.aborted) throw this.#named(abortError(signal));
    const seq = this.#nextSeq;
    const bytes = this.#encode(serviceMethod, seq, argsType, args);
    this.#nextSeq++;
    const call = new PendingCall(seq, serviceMethod, replyType, own, this.#owner);
    this.#pending.set(seq, call);
    this.#write(bytes);
    return call.promise as Promise<R>;
  }

  /** Rejects pending and future calls with CLIENT_CLOSED and closes the connection. Idempotent. */
  close(): Promise<void> {
    if (this.#closed === undefined) {
      this.#closed = this.#named(new PluginError("CLIENT_CLOSED", "the net/rpc client was closed"));
      this.#rejectAll(this.#closed);
    }
    const stream = this.#stream;
    if (stream.closed) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    stream.once("close", () => resolve());
    // Go's client closes the whole connection: our requests end, and nothing more is read.
    stream.end(() => stream.destroy());
    return promise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #encode(
    serviceMethod: string,
    seq: number,
    argsType: GoType<unknown>,
    args: unknown,
  ): Uint8Array {
    try {
      return this.#writer.encode(
        RequestHeader,
        { ServiceMethod: serviceMethod, Seq: seqToWire(seq) },
        argsType,
        args,
      );
    } catch (error) {
      const failure = PluginError.from(error, "GOB_TYPE");
      throw this.#named(
        new PluginError(
          failure.code,
          `the arguments of ${serviceMethod} do not fit their type: ${failure.rawMessage}`,
          { cause: failure },
        ),
      );
    }
  }

  /** A header and body arrived: settle the call they answer. */
  #answer(header: ResponseHeaderValue, body: ReadBody): void {
    const seq = seqFromWire(header.Seq);
    if (seq >= this.#nextSeq) {
      this.#broken(
        new PluginError(
          "INTERNAL",
          `net/rpc protocol error: the server answered call ${header.Seq}, which was never made`,
        ),
      );
      return;
    }
    // A call that ended here (deadline, cancel) has no entry: its late reply was read, and is dropped.
    const call = this.#pending.get(seq);
    if (call === undefined) return;
    if (header.Error !== "") {
      call.reject(
        new PluginError("NETRPC_ERROR", header.Error, {
          details: { error: header.Error, serviceMethod: call.serviceMethod, fromPeer: true },
        }),
      );
    } else if ("error" in body) {
      call.reject(
        new PluginError(
          "GOB_TYPE",
          `the reply of ${call.serviceMethod} does not fit its type: ${body.error.rawMessage}`,
          { cause: body.error },
        ),
      );
    } else {
      call.resolve(body.value);
    }
  }

  /** The server sent what net/rpc does not allow: the connection cannot be trusted any more. */
  #broken(error: unknown): void {
    const failure = PluginError.from(error, "GOB_INVALID");
    const reason = new PluginError(
      failure.code,
      `the plugin's net/rpc stream is malformed, so the connection was closed: ${failure.rawMessage}`,
      { cause: failure },
    );
    this.#shut(reason);
    this.#stream.destroy();
  }

  #lost(error: Error | undefined): void {
    if (this.#closed !== undefined) return;
    const text = error === undefined ? "" : `: ${error.message}`;
    this.#shut(
      new PluginError("UNAVAILABLE", `the net/rpc connection to the plugin was lost${text}`, {
        cause: error,
      }),
    );
    this.#stream.destroy();
  }

  #shut(reason: PluginError): void {
    if (this.#closed !== undefined) return;
    this.#closed = this.#named(reason);
    this.#rejectAll(this.#closed);
  }

  #rejectAll(reason: PluginError): void {
    for (const call of [...this.#pending.values()]) call.reject(reason);
  }

  #named(error: PluginError): PluginError {
    return this.#plugin === undefined ? error : error.withPlugin(this.#plugin);
  }
}
