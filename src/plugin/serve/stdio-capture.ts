import { create } from "@bufbuild/protobuf";
import type { StdioData } from "../../gen/plugin/grpc_stdio_pb.js";
import { StdioData_Channel, StdioDataSchema } from "../../gen/plugin/grpc_stdio_pb.js";
import { onProcessExit } from "../../platform/process.ts";
import { holdStdoutAgain, takeHeldStdout } from "./stdout-guard.ts";

type Write = typeof process.stdout.write;

/** Bytes held for a host that has not subscribed yet; past this the oldest output is dropped. */
const maxQueuedBytes = 8 * 1024 * 1024;
/** Chunk size go-plugin uses for stdio data (grpc_stdio.go). */
const chunkBytes = 1024;

/**
 * Routes what the plugin writes to `process.stdout` (and, after the handshake, `process.stderr`)
 * into go-plugin's GRPCStdio stream, so it reaches the host's SyncStdout/SyncStderr instead of
 * the real pipes: fd 1 carries only the handshake line, fd 2 only log lines.
 */
export class StdioCapture {
  readonly #realStdoutWrite: Write;
  readonly #realStderrWrite: Write;
  /** `process.stdout.write` and `process.stderr.write` as serve() found them. */
  readonly #stdoutBefore = process.stdout.write;
  readonly #stderrBefore = process.stderr.write;
  #queue: StdioData[] = [];
  #queuedBytes = 0;
  #dropped = 0;
  #wake: (() => void) | undefined;
  #subscribed = false;
  #closed = false;
  #handshakeWritten = false;
  readonly #removeExitHook: () => void;

  constructor() {
    const capture = this.#capture(StdioData_Channel.STDOUT) as Write;
    // Output held since `plugwire/plugin` was imported (stdout-guard.ts) comes first, in order.
    const held = takeHeldStdout(capture);
    this.#realStdoutWrite = held?.write ?? (process.stdout.write.bind(process.stdout) as Write);
    this.#realStderrWrite = process.stderr.write.bind(process.stderr) as Write;
    process.stdout.write = capture;
    for (const chunk of held?.chunks ?? []) this.#enqueue(StdioData_Channel.STDOUT, chunk);
    this.#removeExitHook = onProcessExit(this.#flushOnExit);
  }

  /** Writes to the real stdout (the handshake line) and calls back when it is flushed. */
  writeRealStdout(text: string): Promise<void> {
    this.#handshakeWritten = true;
    return new Promise((resolve) => this.#realStdoutWrite(text, () => resolve()));
  }

  /**
   * A plugin that exits before its handshake line (wrong cookie, no address to listen on) has
   * its output written to the real stdout, where the host's error shows it.
   */
  readonly #flushOnExit = (): void => {
    if (this.#handshakeWritten) return;
    for (const data of this.#queue)
      if (data.channel === StdioData_Channel.STDOUT) this.#realStdoutWrite(data.data);
    this.#queue = [];
  };

  /** Writes to the real stderr (log lines), bypassing the capture. */
  writeRealStderr(text: string, done?: () => void): void {
    this.#realStderrWrite(text, done);
  }

  /** From the handshake on, stderr output of the application goes to the host too. */
  captureStderr(): void {
    process.stderr.write = this.#capture(StdioData_Channel.STDERR) as Write;
  }

  /** Puts the writers back (shutdown); before the handshake line, see `#giveBackStdout`. */
  restore(): void {
    this.#closed = true;
    this.#removeExitHook();
    process.stderr.write = this.#stderrBefore;
    if (this.#handshakeWritten) process.stdout.write = this.#realStdoutWrite;
    else this.#giveBackStdout();
    this.#wake?.();
  }

  /**
   * A serve() cancelled before its handshake line does not lose the output it took over: stdout
   * is held again for a later serve() (stdout-guard.ts), or, where it was never held, written out.
   */
  #giveBackStdout(): void {
    const stdout = this.#queue.filter((data) => data.channel === StdioData_Channel.STDOUT);
    this.#queue = [];
    this.#queuedBytes = 0;
    const chunks = stdout.map((data) => Buffer.from(data.data));
    process.stdout.write = this.#stdoutBefore;
    if (!holdStdoutAgain(chunks)) for (const chunk of chunks) this.#realStdoutWrite(chunk);
  }

  #capture(channel: StdioData_Channel) {
    return (chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
      const bytes =
        typeof chunk === "string"
          ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
          : Buffer.from(chunk);
      this.#enqueue(channel, bytes);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };
  }

  #enqueue(channel: StdioData_Channel, bytes: Buffer): void {
    for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
      const data = bytes.subarray(offset, offset + chunkBytes);
      this.#queue.push(create(StdioDataSchema, { channel, data }));
      this.#queuedBytes += data.length;
    }
    while (this.#queuedBytes > maxQueuedBytes && this.#queue.length > 0) {
      const dropped = this.#queue.shift()!;
      this.#queuedBytes -= dropped.data.length;
      this.#dropped += dropped.data.length;
    }
    this.#wake?.();
  }

  /** Bytes dropped because no host consumed them in time. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /**
   * The GRPCStdio stream: one subscriber at a time, as go-plugin allows; queued data is delivered
   * once and not replayed.
   */
  async *subscribe(signal: AbortSignal): AsyncGenerator<StdioData> {
    if (this.#subscribed) return;
    this.#subscribed = true;
    try {
      while (!signal.aborted && !this.#closed) {
        if (this.#queue.length > 0) {
          const batch = this.#queue;
          this.#queue = [];
          this.#queuedBytes = 0;
          yield* batch;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        this.#wake = undefined;
      }
    } finally {
      this.#subscribed = false;
    }
  }
}
