import type { Server, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import type { TLSSocket } from "node:tls";
import { readFrom, withReusedReads, withReusedTlsReads } from "../internal/borrowed-reads.ts";
import { fastWireAlpn, fastWirePreface } from "../rpc/fast/frames.ts";
import { FastServerConnection } from "../rpc/fast/server.ts";
import type { RpcServer } from "../rpc/grpc/server.ts";
import type { GrpcFraming } from "../rpc/h2/framing-option.ts";
import { serverReadBufferBytes } from "../rpc/h2/listener.ts";
import type { ServerTls } from "./auto-mtls-server.ts";
import { createAutoMtlsServer } from "./auto-mtls-server.ts";
import type { GrpcServer } from "./http2-server.ts";
import { createGrpcServer } from "./http2-server.ts";

/** The plugin's main listener when the host offered the fast wire. */
export interface DualListener {
  /** The server to bind (unix or TCP). */
  readonly server: Server;
  /** Ends every connection (calls may finish for `graceMs`), then stops listening. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One address serving both wires (docs/fast-wire.md): a connection that starts with the fast
 * wire's preface (under AutoMTLS: that negotiated the fast wire's ALPN name) gets the fast wire,
 * every other one gets gRPC (on `framing`, default h2), whose server is made only when a gRPC
 * client actually connects.
 */
export function createDualListener(
  rpc: RpcServer,
  tls: ServerTls | undefined,
  onTlsError?: (error: Error) => void,
  framing?: GrpcFraming,
): DualListener {
  const fast = new Set<FastServerConnection>();
  let grpc: GrpcServer | undefined;
  const toGrpc = (socket: Socket) => {
    socket.setTimeout(0);
    grpc ??= createGrpcServer(rpc, undefined, undefined, framing);
    grpc.server.emit("connection", socket);
  };
  const toFast = (socket: Socket) => {
    socket.setTimeout(0); // the connection keeps its own idle timeout
    const connection = new FastServerConnection(rpc, socket);
    fast.add(connection);
    void connection.closed.then(() => fast.delete(connection));
  };
  // A connection that never sends its first bytes is not kept (docs/fast-wire.md).
  const idleMs = rpc.limits.idleTimeoutMs;
  const watchIdle = (socket: Socket) => {
    if (idleMs <= 0) return;
    socket.setTimeout(idleMs);
    socket.once("timeout", () => socket.destroy());
  };
  const onSocket = (socket: Socket) => {
    socket.on("error", () => {});
    watchIdle(socket);
    sniff(socket, toFast, toGrpc);
  };
  let server: Server;
  if (tls === undefined) {
    // Accepted paused, so that each connection reads into one reused buffer (§22).
    server = createNetServer({ pauseOnConnect: true }, (socket: Socket) =>
      onSocket(withReusedReads(socket, serverReadBufferBytes)),
    );
  } else {
    server = createAutoMtlsServer(
      tls,
      {
        ALPNProtocols: [fastWireAlpn, "h2"],
        ...(idleMs > 0 ? { handshakeTimeout: idleMs } : {}),
      },
      (secure: TLSSocket) => {
        const socket = withReusedTlsReads(secure, serverReadBufferBytes); // §24
        socket.on("error", () => {});
        watchIdle(socket);
        if (socket.alpnProtocol === fastWireAlpn) sniff(socket, toFast, () => socket.destroy());
        else toGrpc(socket);
      },
    );
    server.on("tlsClientError", (error: Error) => onTlsError?.(error));
  }
  return {
    server,
    async close(graceMs = 500) {
      await Promise.all([
        ...[...fast].map((connection) => connection.close(graceMs)),
        grpc?.close(graceMs),
      ]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Reads just enough of a new connection to tell the fast wire's preface from anything else; the
 * rest goes to the connection that serves it (`rest`, or unread for the gRPC server).
 */
function sniff(
  socket: Socket,
  onFast: (socket: Socket) => void,
  onOther: (socket: Socket) => void,
): void {
  let seen: Buffer | undefined;
  const reads = readFrom(socket, (chunk) => {
    const data = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(data.byteLength, fastWirePreface.byteLength);
    if (data.compare(fastWirePreface, 0, compared, 0, compared) !== 0) {
      reads.stop(data);
      onOther(socket);
      return;
    }
    if (data.byteLength < fastWirePreface.byteLength) {
      seen = Buffer.from(data); // the chunk may be borrowed
      return;
    }
    reads.stop(data.subarray(fastWirePreface.byteLength));
    onFast(socket);
  });
}
