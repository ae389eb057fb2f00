import type { Http2SecureServer, Http2Server, ServerHttp2Session } from "node:http2";
import type { Server } from "node:net";
import type { TlsOptions } from "node:tls";
import type { RpcServer } from "../rpc/grpc/server.ts";
import type { GrpcFraming } from "../rpc/h2/framing-option.ts";
import { resolveGrpcFraming } from "../rpc/h2/framing-option.ts";
import { createH2Listener } from "../rpc/h2/listener.ts";
import type { ServerTls } from "./auto-mtls-server.ts";
import { autoMtlsServer } from "./auto-mtls-server.ts";

/**
 * TLS as go-plugin's AutoMTLS server: our certificate; require and verify the client's against
 * exactly the peer's certificate; TLS 1.2 or later.
 */
export function serverTlsOptions(tls: ServerTls): TlsOptions {
  return {
    key: tls.identity.keyPem,
    cert: tls.identity.certPem,
    ca: [tls.peerCertPem],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
  };
}

/** An HTTP/2 server carrying an RpcServer, with its sessions tracked for a graceful close. */
export interface GrpcServer {
  readonly server: Http2Server | Http2SecureServer | Server;
  /** Ends sessions (streams may finish for `graceMs`), then stops listening. */
  close(graceMs?: number): Promise<void>;
}

const streamWindowBytes = 4 * 1024 * 1024;

/**
 * nghttp2's rapid-reset guard (CVE-2023-44487) ends a session after a burst of 1,000 streams the
 * client reset (then 33 a second): a host whose calls time out in a burst trips it, and over TLS
 * node:http2's client then never learns the session is gone (docs/transport.md, "Cancellation
 * bursts"). A plugin's one client is its host, and `maxConcurrentStreams` still bounds the
 * handlers running at once, so resets are allowed at the rate a host can cancel calls.
 */
const cancellationBurstLimits = { streamResetBurst: 100_000, streamResetRate: 10_000 };

/**
 * The HTTP/2 server both the plugin's main listener and every brokered server use: plain, or
 * AutoMTLS (require and verify the client certificate against exactly the peer's, TLS ≥ 1.2,
 * ALPN h2). On plugwire's own framing unless `framing` (or PLUGWIRE_GRPC_FRAMING) says
 * `node-http2`.
 */
export function createGrpcServer(
  rpc: RpcServer,
  tls: ServerTls | undefined,
  onTlsError?: (error: Error) => void,
  framing: GrpcFraming = resolveGrpcFraming(),
): GrpcServer {
  if (framing === "h2")
    return createH2Listener(rpc, tls === undefined ? undefined : autoMtlsServer(tls), onTlsError);
  const options = {
    settings: {
      initialWindowSize: streamWindowBytes,
      maxConcurrentStreams: rpc.limits.maxConcurrentCalls,
    },
    ...cancellationBurstLimits,
  };
  // node:http2 is loaded on first use: a plugin on the fast wire never needs it.
  const http2 = process.getBuiltinModule("node:http2");
  const server =
    tls === undefined
      ? http2.createServer(options)
      : http2.createSecureServer({ ...serverTlsOptions(tls), ALPNProtocols: ["h2"], ...options });
  if (tls !== undefined) server.on("tlsClientError", (error: Error) => onTlsError?.(error));
  rpc.attach(server);
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {});
  });
  return {
    server,
    async close(graceMs = 500) {
      await closeSessions(sessions, graceMs);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Lets streams end with a status (a Go host logs a reset stdio stream as an error), then destroys
 * what remains. Waits for 'close' events: close() on a session already closing never calls back.
 */
async function closeSessions(sessions: Set<ServerHttp2Session>, graceMs: number): Promise<void> {
  const closing = [...sessions]
    .filter((session) => !session.destroyed)
    .map((session) => {
      // Not events.once: it rejects on an 'error' before 'close' (a peer resetting the session
      // as we shut down), and that rejection crashed the plugin. 'close' always follows.
      const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
      session.close();
      return closed;
    });
  const timer = setTimeout(() => {
    for (const session of sessions) session.destroy();
  }, graceMs);
  await Promise.all(closing);
  clearTimeout(timer);
}
