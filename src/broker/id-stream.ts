// go-plugin's MuxBroker tags every brokered yamux stream with its id: the dialer writes the id
// as a 4-byte little-endian uint32, the acceptor answers with the same 4 bytes as the ack.
import type { Duplex } from "node:stream";
import { PluginError } from "../errors/plugin-error.ts";

/** The id (or its ack) as it goes on the wire. */
export function idBytes(id: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(id >>> 0);
  return bytes;
}

export interface ReadIdOptions {
  /** Gives up after this long with DEADLINE_EXCEEDED (`what` names the wait). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** What is read, for the errors: `"stream id"`, `"ack for broker id 3"`. */
  readonly what: string;
}

/**
 * Reads the 4-byte id at the start of `stream`, leaving everything after it in the stream's
 * buffer for whoever reads next (a net/rpc client or server). Rejects when the stream ends or
 * fails first, the time runs out or `signal` aborts; the stream is not destroyed here.
 */
export function readId(stream: Duplex, options: ReadIdOptions): Promise<number> {
  const { signal, what } = options;
  if (signal?.aborted) return Promise.reject(cancelled(what, signal.reason));
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const onReadable = () => {
      const bytes = stream.read(4) as Buffer | null;
      if (bytes === null) return;
      // A stream that ended early hands out what it had.
      if (bytes.length < 4) onEnd();
      // Nothing past the id is read: it stays buffered for the stream's next reader.
      else settle(() => resolve(bytes.readUInt32LE(0)));
    };
    const onEnd = () =>
      settle(() =>
        reject(new PluginError("UNAVAILABLE", `the stream ended before its ${what} arrived`)),
      );
    const onError = (error: Error) => settle(() => reject(PluginError.from(error, "UNAVAILABLE")));
    const onAbort = () => settle(() => reject(cancelled(what, signal?.reason)));
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new PluginError(
              "DEADLINE_EXCEEDED",
              `no ${what} within ${options.timeoutMs} ms: the other side did not take the stream`,
            ),
          ),
        ),
      options.timeoutMs,
    );
    timer.unref();
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    onReadable();
  });
}

function cancelled(what: string, reason: unknown): PluginError {
  if (reason instanceof PluginError) return reason;
  return new PluginError("CANCELLED", `the wait for the ${what} was cancelled`, { cause: reason });
}
