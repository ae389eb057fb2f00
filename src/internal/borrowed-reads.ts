import type { OnReadOpts } from "node:net";

/**
 * Reads into one buffer reused for every read (Node's `onread`, docs/performance.md §20): each
 * chunk handed to `onChunk` is a view of it, valid only during the call ("borrowed").
 */
export function reusedReadBuffer(bytes: number, onChunk: (chunk: Buffer) => void): OnReadOpts {
  const buffer = Buffer.allocUnsafeSlow(bytes);
  return {
    buffer,
    callback: (read) => {
      onChunk(buffer.subarray(0, read));
      return true;
    },
  };
}

/** `bytes` to keep past the read they came in: a copy when that read was borrowed. */
export function keep(bytes: Buffer, borrowed: boolean): Buffer {
  return borrowed ? Buffer.from(bytes) : bytes;
}
