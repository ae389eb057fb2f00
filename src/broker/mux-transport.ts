import type { Server } from "node:net";
import type { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { PluginError } from "../errors/plugin-error.ts";
import { ConnInfo_KnockSchema, ConnInfoSchema } from "../gen/plugin/grpc_broker_pb.js";
import type { YamuxSession } from "../mux/session.ts";
import type { YamuxStream } from "../mux/stream.ts";
import type { BrokerTransport, Send, Take } from "./transport.ts";

/**
 * Routes the streams a yamux session accepts, as go-plugin's muxers do (§5.4): a stream that
 * follows an acknowledged knock for id N goes to the server registered for N; any other stream
 * goes to the main server (plugin side) or is refused (host side).
 */
export class MuxRouter {
  readonly session: YamuxSession;
  readonly #main: Server | undefined;
  readonly #servers = new Map<number, Server>();
  readonly #knocked: number[] = [];
  #dialing: Promise<unknown> = Promise.resolve();

  constructor(session: YamuxSession, main: Server | undefined) {
    this.session = session;
    this.#main = main;
    void this.#route();
  }

  register(id: number, server: Server): () => void {
    this.#servers.set(id, server);
    return () => this.#servers.delete(id);
  }

  has(id: number): boolean {
    return this.#servers.has(id);
  }

  /** The next accepted stream belongs to `id` (its knock was acknowledged). */
  expect(id: number): void {
    this.#knocked.push(id);
  }

  /** Runs `dial` after every earlier one: one knock, one stream, in order (§14.43). */
  serialise<T>(dial: () => Promise<T>): Promise<T> {
    const next = this.#dialing.then(dial, dial);
    this.#dialing = next.catch(() => {});
    return next;
  }

  async #route(): Promise<void> {
    try {
      for await (const stream of this.session) this.#deliver(stream);
    } catch {
      // The session ended; its streams fail on their own.
    }
  }

  #deliver(stream: YamuxStream): void {
    const id = this.#knocked.shift();
    const target = id === undefined ? this.#main : this.#servers.get(id);
    if (target === undefined) {
      stream.reset(); // refused: RST, as yamux refuses a stream
      return;
    }
    target.emit("connection", asConnection(stream));
  }
}

/**
 * Makes a yamux stream end like a socket when it carries a connection (gRPC, TLS, a byte
 * stream): once the peer's FIN has arrived, our FIN follows. A YamuxStream is half-open by
 * default (a Duplex's default, and yamux's semantics), and a TLS socket over a JS stream
 * inherits `allowHalfOpen` from it, so under AutoMTLS neither TLS nor HTTP/2 ever ended the
 * stream when the peer closed: hashicorp/yamux's Read waits for our FIN, grpc-go's
 * `Server.Stop` waits for that Read, and go-plugin's bidirectional Put (which stops its
 * brokered server after every call) hung. HTTP/2 has no half-close, and a byte stream is read
 * to its end marker before the sender ends, so nothing is lost.
 */
export function asConnection<S extends Duplex>(stream: S): S {
  stream.allowHalfOpen = false;
  return stream;
}

const knockTimeoutMs = 5000;

/** go-plugin's multiplexed broker: knocks on the broker stream, connections as yamux streams. */
export function muxTransport(router: MuxRouter, send: Send, take: Take): BrokerTransport {
  return {
    async accept(id, server) {
      return router.register(id, server);
    },
    knock(info) {
      const id = info.serviceId;
      const known = router.has(id);
      if (known) router.expect(id);
      send(
        create(ConnInfoSchema, {
          serviceId: id,
          knock: create(ConnInfo_KnockSchema, {
            knock: true,
            ack: true,
            error: known ? "" : `no listener for id ${id}`,
          }),
        }),
      );
    },
    dial(id, options) {
      return router.serialise(async () => {
        send(
          create(ConnInfoSchema, {
            serviceId: id,
            knock: create(ConnInfo_KnockSchema, { knock: true, ack: false }),
          }),
        );
        let ack: Awaited<ReturnType<Take>>;
        try {
          ack = await take(id, {
            ...options,
            timeoutMs: Math.min(options.timeoutMs, knockTimeoutMs),
          });
        } catch (error) {
          const failure = PluginError.from(error);
          if (failure.code !== "DEADLINE_EXCEEDED") throw failure;
          throw new PluginError(
            "DEADLINE_EXCEEDED",
            `timeout waiting for multiplexing knock handshake on id ${id}`,
            { cause: failure },
          );
        }
        if (ack.serviceId !== id || ack.knock?.knock !== true || ack.knock.ack !== true) {
          throw new PluginError("INTERNAL", `handshake failed for multiplexing on id ${id}`);
        }
        if (ack.knock.error !== "") {
          throw new PluginError("UNAVAILABLE", `failed to knock for id ${id}: ${ack.knock.error}`);
        }
        const stream: Duplex = asConnection(router.session.open());
        let used = false;
        return {
          connect: () => {
            if (used)
              throw new PluginError(
                "UNAVAILABLE",
                `the multiplexed connection for broker id ${id} is gone`,
              );
            used = true;
            return stream;
          },
          reconnects: false,
        };
      });
    },
  };
}
