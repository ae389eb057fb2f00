import type { Writable } from "node:stream";

/**
 * A write function for `stream` that sends the messages written in one tick together: the
 * stream is corked at the first and uncorked on the next tick, so 64 answers that are ready at
 * once cost one system call instead of 64 (Go's net/rpc gathers a message in a bufio.Writer for
 * the same reason). Returns what `write` returns: false asks the caller to wait for 'drain'.
 */
export function batchedWriter(stream: Writable): (bytes: Uint8Array) => boolean {
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  return (bytes) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return stream.write(bytes);
  };
}
