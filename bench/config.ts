// How much each measurement does, in the full run and in --quick (CI: checks the harness, asserts
// no timing).

export interface BenchConfig {
  readonly quick: boolean;
  /** Interleaved repetitions of every call, stream, start and memory figure. */
  readonly reps: number;
  /**
   * Untimed calls (stream: messages) before the unary, throughput and stream figures, on both
   * hosts (-warmup), so a JIT-compiled side is measured warm, as a long-running plugin is.
   */
  readonly warmupCalls: number;
  /** Sequential 64 B Echo calls per repetition. */
  readonly unaryCalls: number;
  /** Calls in flight for the throughput figures. */
  readonly inFlight: readonly number[];
  /** Measuring time of each throughput figure. */
  readonly throughputMs: number;
  /**
   * The throughput rows' callers run untimed this long before `throughputMs` is measured. After
   * 1 000 sequential calls alone, a TS side's first 500 ms at 64 in flight ran at a third of its
   * later rate (40 k against 128 k calls/s TS ↔ TS): its JIT had not yet compiled the concurrent
   * path. Every pairing (and the IPC rows) gets the same.
   */
  readonly throughputWarmupMs: number;
  /** Sequential Echo calls of 1 MiB and of 16 MiB. */
  readonly large1MiBCalls: number;
  readonly large16MiBCalls: number;
  /** Messages through one bidi EchoStream. */
  /**
   * Messages through one bidi stream, after `streamWarmupMessages` through another. A stream of
   * 10 000 lasts 20–25 ms at Go's rate: a TS side's figure for it was its JIT warming up (the
   * first 10 000 at a third of the rate of the tenth), not the stream path; the unary rows warm
   * up for ≈ 100 ms and measure ≈ 200 ms, and these now do likewise.
   */
  readonly streamMessages: number;
  /**
   * Untimed calls before the 1 MiB and 16 MiB rows (≈ 32–64 MiB each way). A Node side moves its
   * first ≈ 20 MiB of 1 MiB echoes at a third of its later rate (warm-up, on the fast wire too),
   * and 24 calls after 2 measured mostly that.
   */
  readonly large1MiBWarmupCalls: number;
  readonly large16MiBWarmupCalls: number;
  readonly streamWarmupMessages: number;
  /** Messages of the cold stream row (after `warmupCalls`), as the stream rows before. */
  readonly coldStreamMessages: number;
  /** Plugin starts (each followed by a `node -e 0`) per repetition. */
  readonly startsPerRep: number;
  /** Idle time before reading a plugin's RSS. */
  readonly idleSettleMs: number;
  /** Additional plugins a host starts for the RSS-per-plugin figure. */
  readonly hostRssPlugins: number;
  /** Plugins started together for the scale figures, and repetitions of each. */
  readonly scaleCounts: readonly number[];
  readonly scaleReps: number;
  /** Bytes of the raw unix-socket copy (the ceiling of the brokered byte stream). */
  readonly streamBytes: number;
}

const MiB = 1024 * 1024;

export const fullConfig: BenchConfig = {
  quick: false,
  reps: 4,
  warmupCalls: 1000,
  unaryCalls: 2000,
  inFlight: [1, 16, 64],
  throughputMs: 500,
  throughputWarmupMs: 500,
  large1MiBCalls: 120,
  large16MiBCalls: 12,
  streamMessages: 100_000,
  large1MiBWarmupCalls: 32,
  large16MiBWarmupCalls: 4,
  streamWarmupMessages: 30_000,
  coldStreamMessages: 10_000,
  startsPerRep: 3,
  idleSettleMs: 1000,
  hostRssPlugins: 8,
  scaleCounts: [1, 8, 32],
  scaleReps: 3,
  streamBytes: 1024 * MiB,
};

export const quickConfig: BenchConfig = {
  quick: true,
  reps: 1,
  warmupCalls: 10,
  unaryCalls: 20,
  inFlight: [1, 16, 64],
  throughputMs: 50,
  throughputWarmupMs: 20,
  large1MiBCalls: 1,
  large16MiBCalls: 1,
  streamMessages: 50,
  large1MiBWarmupCalls: 1,
  large16MiBWarmupCalls: 1,
  streamWarmupMessages: 10,
  coldStreamMessages: 50,
  startsPerRep: 1,
  idleSettleMs: 50,
  hostRssPlugins: 1,
  scaleCounts: [1, 2, 4],
  scaleReps: 1,
  streamBytes: 16 * MiB,
};
