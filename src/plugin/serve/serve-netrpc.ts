// The plugin's half of go-plugin's net/rpc protocol (rpc_server.go): every host connection (TLS
// around it under AutoMTLS) runs a yamux server session whose first three streams are the
// control stream (Control and Dispenser over net/rpc), the plugin's stdout and its stderr; the
// MuxBroker takes every stream after them, dispensed plugins' included.
import type { Server, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import type { Duplex } from "node:stream";
import { MuxBroker } from "../../broker/mux-broker.ts";
import { asConnection } from "../../broker/mux-transport.ts";
import type { PluginError } from "../../errors/plugin-error.ts";
import { go } from "../../gob/index.ts";
import { YamuxSession } from "../../mux/session.ts";
import type { YamuxStream } from "../../mux/stream.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { define } from "../../rpc/netrpc/define.ts";
import { NetRpcServer } from "../../rpc/netrpc/server.ts";
import type { ServerTls } from "../../transport/auto-mtls-server.ts";
import { createAutoMtlsServer } from "../../transport/auto-mtls-server.ts";
import type { MainListener } from "./listen.ts";
import type { NetRpcPlugins } from "./netrpc-plugins.ts";
import { implFor } from "./netrpc-plugins.ts";
import { pumpStdio } from "./netrpc-stdio.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** Go's `struct{}`, the reply of Control's methods. */
const Nothing = go.struct("", {});

/** go-plugin's `Control` service (controlServer). */
const Control = define({
  Ping: { args: go.bool, reply: Nothing },
  Quit: { args: go.bool, reply: Nothing },
});

/** go-plugin's `Dispenser` service (dispenseServer). */
const Dispenser = define({ Dispense: { args: go.string, reply: go.uint32 } });

export interface NetRpcServeParts {
  readonly plugins: NetRpcPlugins;
  readonly tls: ServerTls | undefined;
  readonly stdio: StdioCapture;
  readonly logger: Logger;
  readonly maxMessageBytes?: number | undefined;
  readonly maxConcurrentCalls?: number | undefined;
  /** `Control.Quit`: the host asks the plugin to stop (answered first). */
  readonly onQuit: () => void;
}

/** What serving net/rpc is made of, for the shutdown to stop in order. */
export interface NetRpcServing {
  readonly listener: MainListener;
  /** Ends every running call (handlers see their signal fire). */
  readonly rpc: { abortAll(reason: string): void };
  /** Ends every connection's MuxBroker. */
  readonly broker: { close(): Promise<void> };
}

/** One host connection. */
interface Served {
  readonly session: YamuxSession;
  readonly broker: MuxBroker;
  readonly servers: Set<NetRpcServer>;
}

/** The main listener and what it serves, for the plugins of the negotiated version. */
export function netRpcServing(parts: NetRpcServeParts): NetRpcServing {
  const connections = new Set<Served>();
  const onSocket = (socket: Duplex) => {
    const served = serveConnection(socket, parts);
    connections.add(served);
    void served.session.closed.then(() => {
      connections.delete(served);
      stopServers(served);
    });
  };
  const server = makeServer(parts, onSocket);
  return {
    listener: {
      server,
      awaitHost: () => {},
      async close() {
        await Promise.all([...connections].map((served) => served.session.close()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    },
    rpc: {
      abortAll: () => {
        for (const served of connections) stopServers(served);
      },
    },
    broker: {
      close: async () => {
        for (const served of connections) served.broker.close();
      },
    },
  };
}

/** Plain, or TLS as go-plugin's `tls.NewListener` around the raw listener. */
function makeServer(parts: NetRpcServeParts, onSocket: (socket: Duplex) => void): Server {
  const { tls, logger } = parts;
  if (tls === undefined) return createNetServer((socket: Socket) => onSocket(socket));
  const server = createAutoMtlsServer(tls, {}, (socket) => onSocket(socket));
  server.on("tlsClientError", (error: Error) =>
    logger.debug("TLS handshake with a client failed", { error }),
  );
  return server;
}

/**
 * go-plugin's `RPCServer.ServeConn`: a yamux server session, the control stream, stdout and
 * stderr in that order, then the MuxBroker for the rest.
 */
function serveConnection(socket: Duplex, parts: NetRpcServeParts): Served {
  socket.on("error", () => {}); // the session reports the connection's end
  const session = new YamuxSession(socket, { role: "server" });
  const broker = new MuxBroker(session, { logger: parts.logger });
  const served: Served = { session, broker, servers: new Set() };
  void (async () => {
    let streams: YamuxStream[];
    try {
      streams = [await session.accept(), await session.accept(), await session.accept()];
    } catch (error) {
      // A host that connects and leaves (a reattach probe) is not an error.
      parts.logger.debug("net/rpc connection ended before its streams", { error });
      void session.close();
      return;
    }
    const [control, stdout, stderr] = streams as [YamuxStream, YamuxStream, YamuxStream];
    pumpStdio(parts.stdio, stdout, stderr, session);
    broker.run();
    const server = newServer(parts, served)
      .register("Control", Control, {
        Ping: () => ({}),
        Quit: () => {
          // Answered first; go-plugin stops before it answers, and its host ignores the answer.
          setImmediate(parts.onQuit);
          return {};
        },
      })
      .register("Dispenser", Dispenser, { Dispense: (name) => dispense(name, parts, served) });
    void server.serve(asConnection(control));
  })();
  return served;
}

/**
 * go-plugin's `Dispenser.Dispense`: the plugin's object for this dispense, served as `Plugin` on
 * the stream the host dials for the id answered (within the MuxBroker's accept timeout).
 */
function dispense(name: string, parts: NetRpcServeParts, served: Served): number {
  const plugin = parts.plugins[name];
  // Go's text exactly: a Go host shows it as the Dispense error.
  if (plugin === undefined) throw new Error(`unknown plugin type: ${name}`);
  const impl = implFor(plugin, served.broker);
  const id = served.broker.nextId();
  const server = newServer(parts, served).register("Plugin", plugin.iface, impl);
  void served.broker.accept(id).then(
    (stream) => server.serve(asConnection(stream)),
    (error: unknown) => {
      parts.logger.error("plugin dispense error", { plugin: name, error });
      void server.close();
    },
  );
  return id;
}

function newServer(parts: NetRpcServeParts, served: Served): NetRpcServer {
  const server = new NetRpcServer({
    maxMessageBytes: parts.maxMessageBytes,
    maxConcurrentCalls: parts.maxConcurrentCalls,
    onError: (error: PluginError, method) =>
      parts.logger.error("handler failed", { method, error: error.rawMessage }),
  });
  served.servers.add(server);
  return server;
}

function stopServers(served: Served): void {
  for (const server of served.servers) void server.close();
  served.servers.clear();
}
