/** Defaults of the limits every wire enforces (docs/security.md lists them with their options). */

/** Largest message sent or received, unless configured: 256 MiB (docs/transport.md). */
export const defaultMaxMessageBytes = 256 * 1024 * 1024;

/** Calls one connection may have running at once. */
export const defaultMaxConcurrentCalls = 1000;

/** A server connection with no call running for this long is told goaway and closed. */
export const defaultIdleTimeoutMs = 30_000;
