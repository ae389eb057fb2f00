import type { Duplex } from "node:stream";

/**
 * Writes a turn's queued buffers into `socket` as one write (corked when there are several), as
 * both of plugwire's own framings do once per turn of the event loop. Returns the socket's
 * back-pressure verdict for the last write.
 */
export function writeQueued(socket: Duplex, queue: readonly Buffer[]): boolean {
  if (queue.length === 1) return socket.write(queue[0]);
  let ok = true;
  socket.cork();
  for (const buffer of queue) ok = socket.write(buffer);
  socket.uncork();
  return ok;
}
