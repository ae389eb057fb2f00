/**
 * A timeout that does not keep the process alive: yamux's timers only watch over a connection
 * (open, close, write and ping deadlines), which is no reason for the process to stay.
 */
export function unrefTimeout(ms: number, callback: () => void): NodeJS.Timeout {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return timer;
}
