import { once } from "node:events";
import { StdioData_Channel } from "../../gen/plugin/grpc_stdio_pb.js";
import type { YamuxSession } from "../../mux/session.ts";
import type { YamuxStream } from "../../mux/stream.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/**
 * Copies what the plugin writes to stdout and stderr (the capture that also feeds GRPCStdio)
 * raw into the connection's stdout and stderr streams, as go-plugin's `copyStream` does, for as
 * long as the session lasts. A host that does not read makes the copy wait (the stream's window),
 * and the capture queues meanwhile.
 */
export function pumpStdio(
  stdio: StdioCapture,
  stdout: YamuxStream,
  stderr: YamuxStream,
  session: YamuxSession,
): void {
  const stop = new AbortController();
  void session.closed.then(() => stop.abort());
  for (const stream of [stdout, stderr]) {
    stream.on("error", () => {});
    // The host never writes on these; reading keeps its FIN from being left unread.
    stream.resume();
  }
  void (async () => {
    for await (const data of stdio.subscribe(stop.signal)) {
      const target = data.channel === StdioData_Channel.STDERR ? stderr : stdout;
      if (target.destroyed) continue;
      if (!target.write(data.data)) await drained(target, stop.signal);
    }
  })().catch(() => {});
}

/** Resolves when `stream` drains or closes, or `signal` aborts; no listener is left behind. */
async function drained(stream: YamuxStream, signal: AbortSignal): Promise<void> {
  const done = new AbortController();
  const options = { signal: AbortSignal.any([done.signal, signal]) };
  try {
    await Promise.race([once(stream, "drain", options), once(stream, "close", options)]);
  } catch {
    // Aborted: the session is over.
  } finally {
    done.abort();
  }
}
