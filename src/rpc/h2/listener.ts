import type { Server, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket, TlsOptions, Server as TlsServer } from "node:tls";
import { withReusedReads, withReusedTlsReads } from "../../internal/borrowed-reads.ts";
import type { Router } from "../core/router.ts";
import { H2ServerConnection } from "./server.ts";

/** What a served connection reads at a time, into one buffer reused for every read. */
export const serverReadBufferBytes = 64 * 1024;

/**
 * Makes a TLS server for `options` whose secured connections go to `onSecure`: what a listener
 * needs to serve TLS without knowing who may connect (AutoMTLS's pinned client:
 * src/transport/auto-mtls-server.ts; any client, for h2spec).
 */
export type SecureServerFactory = (
  options: TlsOptions,
  onSecure: (socket: TLSSocket) => void,
) => TlsServer;

/** A listener serving gRPC on plugwire's HTTP/2 framing, with its connections tracked. */
export interface H2Listener {
  /** The server to bind (unix or TCP), or to hand connections with `emit("connection", …)`. */
  readonly server: Server;
  /** Sends GOAWAY on every connection, lets calls finish for `graceMs`, then stops listening. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves `router` as gRPC on every connection `server` accepts: plain, or under TLS: with the
 * options given, or on the server a `SecureServerFactory` makes (AutoMTLS's `autoMtlsServer`,
 * which decides which clients may connect); ALPN `h2` is added. The same shape as the node:http2 server of src/transport/http2-server.ts, so either
 * can be bound or handed multiplexed streams.
 */
export function createH2Listener(
  router: Router,
  tls: TlsOptions | SecureServerFactory | undefined,
  onTlsError?: (error: Error) => void,
): H2Listener {
  const connections = new Set<H2ServerConnection>();
  const serve = (socket: Duplex) => {
    // A dropped connection surfaces through 'close'; an unhandled 'error' would crash the plugin.
    socket.on("error", () => {});
    const connection = new H2ServerConnection(router, socket);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  };
  let server: Server;
  if (tls === undefined) {
    // Accepted paused, so that each connection reads into one reused buffer (§22).
    server = createNetServer({ pauseOnConnect: true }, (socket: Socket) =>
      serve(withReusedReads(socket, serverReadBufferBytes)),
    );
  } else {
    // node:tls is loaded on first use: a plugin without AutoMTLS never needs it.
    const secure: SecureServerFactory =
      typeof tls === "function"
        ? tls
        : (options, onSecure) =>
            process.getBuiltinModule("node:tls").createServer({ ...tls, ...options }, onSecure);
    // Each connection's plaintext lands in one reused buffer too (§24).
    server = secure({ ALPNProtocols: ["h2"] }, (socket: TLSSocket) =>
      serve(withReusedTlsReads(socket, serverReadBufferBytes)),
    );
    server.on("tlsClientError", (error: Error) => onTlsError?.(error));
  }
  return {
    server,
    async close(graceMs = 500) {
      await Promise.all([...connections].map((connection) => connection.close(graceMs)));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
