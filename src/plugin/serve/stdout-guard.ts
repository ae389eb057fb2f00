import { onProcessExit } from "../../platform/process.ts";
import { Env } from "../../protocol/env.ts";

type Write = typeof process.stdout.write;

/** What the guard holds: the real writer and the output written before serve() took over. */
interface Held {
  readonly write: Write;
  readonly chunks: Buffer[];
  bytes: number;
  taken: boolean;
  /** Where writes through the guard go once serve() took over (a writer kept by a library). */
  forward: Write | undefined;
}

/**
 * Shared through the process object, so that two copies of plugwire (say, a bundled plugin and
 * `--import plugwire/plugin`) guard stdout once and hand over to whichever serve() runs.
 */
const heldKey = Symbol.for("plugwire.heldStdout");
const store = process as unknown as Record<symbol, Held | undefined>;

/** Past this much held output, the oldest is dropped (as the GRPCStdio queue does). */
const maxHeldBytes = 8 * 1024 * 1024;

/**
 * Whether this process was launched by a go-plugin-compatible host: go-plugin (every version)
 * and plugwire always set these three in a plugin's environment, and nothing else does.
 */
export function launchedByHost(env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    env[Env.protocolVersions] !== undefined &&
    env[Env.minPort] !== undefined &&
    env[Env.maxPort] !== undefined
  );
}

/**
 * In a plugin launched by a host, holds everything written to `process.stdout` from now on, so
 * that no output (a `console.log` at import time, a dependency's banner) can come before the
 * handshake line, which a host reads as the first line of stdout. serve() takes the held output
 * over and sends it to the host as plugin output once connected; if the process exits without
 * serving, it is written to the real stdout at exit, where a host's start error shows it.
 * Does nothing in any other process (a test, a host, a plugin run by hand). Idempotent.
 */
export function holdStdout(env: NodeJS.ProcessEnv = process.env): void {
  if (store[heldKey] !== undefined || !launchedByHost(env)) return;
  const stdout = process.stdout;
  const held: Held = {
    write: stdout.write.bind(stdout) as Write,
    chunks: [],
    bytes: 0,
    taken: false,
    forward: undefined,
  };
  store[heldKey] = held;
  stdout.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    if (held.taken) {
      const target = (held.forward ?? held.write) as (...args: unknown[]) => boolean;
      return target(chunk, encoding, callback);
    }
    const bytes =
      typeof chunk === "string"
        ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
        : Buffer.from(chunk);
    held.chunks.push(bytes);
    held.bytes += bytes.length;
    while (held.bytes > maxHeldBytes && held.chunks.length > 1)
      held.bytes -= held.chunks.shift()!.length;
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => (done as () => void)());
    return true;
  }) as Write;
  onProcessExit(() => {
    if (held.taken) return;
    held.taken = true;
    // Pipes and files are written synchronously on exit; the host sees it before the exit.
    for (const chunk of held.chunks) held.write(chunk);
  });
}

/**
 * For serve(): the real stdout writer and what was held so far, in order, or undefined when
 * stdout was not held. From then on the caller owns `process.stdout.write`; writes through a
 * reference to the guard kept elsewhere go to `forward`.
 */
export function takeHeldStdout(
  forward: Write,
): { write: Write; chunks: readonly Buffer[] } | undefined {
  const held = store[heldKey];
  if (held === undefined || held.taken) return undefined;
  held.taken = true;
  held.forward = forward;
  const chunks = held.chunks.splice(0);
  held.bytes = 0;
  return { write: held.write, chunks };
}

/**
 * For a serve() that stopped before its handshake line: holds stdout again, with `chunks` (what
 * it had taken over, in order) first, as if serve() had never run, so the output still goes to
 * a later serve()'s host or to the real stdout at exit. The caller puts the guard back on
 * `process.stdout.write` (the writer it found there). Returns false when stdout was not held.
 */
export function holdStdoutAgain(chunks: readonly Buffer[]): boolean {
  const held = store[heldKey];
  if (held === undefined || !held.taken) return false;
  held.taken = false;
  held.forward = undefined;
  held.chunks.unshift(...chunks);
  held.bytes = held.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  return true;
}
