/**
 * True when `promise` settles within `ms`, false otherwise. The timer is cleared as soon as the
 * race is decided, so a bounded wait never keeps the event loop alive after it (a host script
 * exits the moment plugwire is done, not when the longest grace period would have run out).
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, ms, false);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves after a full turn of the event loop, close callbacks included. Node reports a closed
 * server, socket or child process (`close`, `exit`) before libuv has released its handle, which
 * happens at the end of that loop turn; waiting one turn means nothing of it is left.
 */
export function afterLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
