import type { Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import { YamuxSession } from "../mux/session.ts";

/** How long a multiplexed plugin waits for its host's one connection (go-plugin's 5 s). */
export const muxAcceptTimeoutMs = 5000;

/**
 * go-plugin's multiplexed mode, plugin side (§5.4): the main listener takes exactly one
 * connection and runs a yamux server session on it; `onSession` routes its streams (the broker's
 * MuxRouter: the main gRPC server gets every stream not claimed by a knock, knocked streams go to
 * brokered servers).
 */
export function muxListener(onSession: (session: YamuxSession) => void, onNoHost: () => void) {
  let session: YamuxSession | undefined;
  const server = createNetServer((socket: Socket) => {
    if (session !== undefined) {
      socket.destroy(); // one connection per plugin, as go-plugin's server muxer
      return;
    }
    clearTimeout(timer);
    session = new YamuxSession(socket, { role: "server" });
    onSession(session);
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    server,
    /** Starts the 5 s window for the host's connection (call after printing the handshake). */
    awaitHost(): void {
      timer = setTimeout(onNoHost, muxAcceptTimeoutMs);
      timer.unref();
    },
    async close(): Promise<void> {
      clearTimeout(timer);
      await session?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
