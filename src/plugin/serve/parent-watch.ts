/**
 * Calls `onOrphaned` when the process that started us is gone, however it died (SIGKILL
 * included): the parent pid changes when the kernel re-parents us. Polls every `intervalMs`; the
 * timer does not keep the process alive.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
