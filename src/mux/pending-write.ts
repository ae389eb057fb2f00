/** One `_write` or `_writev` batch being sent: `chunks[index]` from `offset` on is still to go. */
export interface PendingWrite {
  readonly chunks: Buffer[];
  index: number;
  offset: number;
  remaining: number;
  readonly callback: (error?: Error | null) => void;
}

export function pendingWrite(
  chunks: Buffer[],
  callback: (error?: Error | null) => void,
): PendingWrite {
  let remaining = 0;
  for (const chunk of chunks) remaining += chunk.length;
  return { chunks, index: 0, offset: 0, remaining, callback };
}

/** The next `n` bytes of a pending write: a view when they lie in one chunk, else a copy. */
export function take(write: PendingWrite, n: number): Buffer {
  write.remaining -= n;
  const pieces: Buffer[] = [];
  let needed = n;
  while (needed > 0) {
    const chunk = write.chunks[write.index]!;
    const available = chunk.length - write.offset;
    const piece = chunk.subarray(write.offset, write.offset + Math.min(available, needed));
    pieces.push(piece);
    needed -= piece.length;
    write.offset += piece.length;
    if (write.offset === chunk.length) {
      write.index++;
      write.offset = 0;
    }
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, n);
}
