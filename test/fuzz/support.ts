// Fuzzing helpers: a seeded PRNG (mulberry32), byte mutators, the corpus kept in test/fuzz/corpus,
// and a runner that replays the corpus, then N seeded mutations, and reports a failure with the
// seed, the iteration and the input (base64) so it can be added to the corpus.
//
// PLUGWIRE_FUZZ_ITERATIONS=100000 raises the mutations per target (npm test runs a few hundred);
// PLUGWIRE_FUZZ_SEED=<n> runs another sequence.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const corpusRoot = fileURLToPath(new URL("./corpus", import.meta.url));

/** The fixed seed of `npm test`, or PLUGWIRE_FUZZ_SEED. */
export const fuzzSeed = Number(process.env.PLUGWIRE_FUZZ_SEED ?? 0x5eed1414);

/** Mutations per target: `fallback` in npm test, PLUGWIRE_FUZZ_ITERATIONS for a long run. */
export function fuzzIterations(fallback: number): number {
  const n = Number(process.env.PLUGWIRE_FUZZ_ITERATIONS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** mulberry32: a small, fast, seeded 32-bit PRNG (deterministic across platforms). */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed inputs of one target: every file in test/fuzz/corpus/<target>/, by name. */
export function loadCorpus(target: string): Array<{ name: string; data: Buffer }> {
  const dir = join(corpusRoot, target);
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

/** Interesting bytes and numbers, spliced in by the mutators. */
const interestingU32 = [
  0, 1, 4, 5, 8, 9, 127, 128, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff,
];

/**
 * One random edit of `input`: flip, insert, delete, duplicate or truncate bytes, splice in a
 * dictionary token or another corpus entry, overwrite 4 bytes with an interesting u32. Stacked
 * 1–4 times. `maxBytes` caps the result.
 */
export function mutate(
  rng: Rng,
  input: Buffer,
  dictionary: readonly Buffer[],
  others: readonly Buffer[],
  maxBytes = 1 << 20,
): Buffer {
  let data = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(data.length + 1);
    switch (rng.int(9)) {
      case 0: {
        if (data.length === 0) break;
        const i = rng.int(data.length);
        data[i]! ^= 1 << rng.int(8);
        break;
      }
      case 1:
        data = Buffer.concat([data.subarray(0, at), rng.bytes(1 + rng.int(8)), data.subarray(at)]);
        break;
      case 2:
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + rng.int(16))]);
        break;
      case 3: {
        const len = rng.int(Math.min(64, data.length - at) + 1);
        const piece = data.subarray(at, at + len);
        data = Buffer.concat([data.subarray(0, at), piece, piece, data.subarray(at + len)]);
        break;
      }
      case 4:
        data = data.subarray(0, at);
        break;
      case 5:
      case 6:
        if (dictionary.length > 0)
          data = Buffer.concat([data.subarray(0, at), rng.pick(dictionary), data.subarray(at)]);
        break;
      case 7:
        if (others.length > 0) {
          const other = rng.pick(others);
          const from = rng.int(other.length + 1);
          data = Buffer.concat([data.subarray(0, at), other.subarray(from)]);
        }
        break;
      case 8:
        if (data.length >= 4) {
          const i = rng.int(data.length - 3);
          data.writeUInt32BE(rng.pick(interestingU32), i);
        }
        break;
    }
  }
  return data.length > maxBytes ? data.subarray(0, maxBytes) : data;
}

export interface FuzzRun {
  readonly target: string;
  readonly corpus: Array<{ name: string; data: Buffer }>;
  readonly iterations: number;
  readonly seed?: number | undefined;
  /** Produces the next mutated input (default: `mutate` on a corpus entry). */
  readonly generate?: ((rng: Rng) => Buffer) | undefined;
  readonly dictionary?: readonly Buffer[] | undefined;
  /** Longest one input may take, in ms (a "hang"), on `clock`. Default 2000. */
  readonly inputDeadlineMs?: number | undefined;
  /**
   * What `inputDeadlineMs` is measured on: "wall" (default), the time that passed, or "cpu",
   * this process's CPU time (user + system, all its threads: the garbage collector's too). CPU
   * time leaves out the time spent waiting for a core, so a loaded machine does not stretch it;
   * it suits checks that compute synchronously, not ones that wait on another process.
   */
  readonly clock?: "wall" | "cpu" | undefined;
  /** Checks the properties for one input; throws (an AssertionError) when one does not hold. */
  readonly check: (input: Buffer, rng: Rng) => void | Promise<void>;
}

/** What a run did, for the report. */
export interface FuzzStats {
  readonly inputs: number;
  readonly corpus: number;
  /** The slowest input, in ms on the run's clock. */
  readonly slowestMs: number;
  readonly elapsedMs: number;
}

/**
 * Replays the corpus, then `iterations` seeded mutations. The first failing input stops the run
 * with an error naming the target, the seed, the iteration and the input, as base64 and as a
 * short preview, so it can be saved in test/fuzz/corpus/<target>/.
 */
export async function fuzz(run: FuzzRun): Promise<FuzzStats> {
  const seed = run.seed ?? fuzzSeed;
  const rng = new Rng(seed);
  const datas = run.corpus.map((c) => c.data);
  const generate =
    run.generate ?? ((r: Rng) => mutate(r, r.pick(datas), run.dictionary ?? [], datas));
  const deadline = run.inputDeadlineMs ?? 2000;
  const cpu = run.clock === "cpu";
  const now = cpu ? cpuMs : () => performance.now();
  const started = performance.now();
  let slowest = 0;
  const attempt = async (input: Buffer, label: string) => {
    const t0 = now();
    try {
      await run.check(input, rng);
    } catch (error) {
      throw failure(run.target, seed, label, input, error);
    }
    const took = now() - t0;
    slowest = Math.max(slowest, took);
    if (took > deadline)
      throw failure(
        run.target,
        seed,
        label,
        input,
        new Error(`took ${took.toFixed(0)} ms${cpu ? " of CPU" : ""} (limit ${deadline})`),
      );
  };
  for (const entry of run.corpus) await attempt(entry.data, `corpus ${entry.name}`);
  for (let i = 0; i < run.iterations; i++) await attempt(generate(rng), `iteration ${i}`);
  return {
    inputs: run.corpus.length + run.iterations,
    corpus: run.corpus.length,
    slowestMs: slowest,
    elapsedMs: performance.now() - started,
  };
}

/** This process's CPU time so far, user + system, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function failure(
  target: string,
  seed: number,
  label: string,
  input: Buffer,
  cause: unknown,
): Error {
  const preview = JSON.stringify(input.subarray(0, 200).toString("latin1"));
  const base64 =
    input.length <= 4096 ? input.toString("base64") : `(${input.length} bytes, not shown)`;
  const message =
    `fuzz ${target}: ${label} failed (seed ${seed}): ${(cause as Error)?.message ?? String(cause)}\n` +
    `  input (${input.length} bytes): ${preview}${input.length > 200 ? "…" : ""}\n` +
    `  base64: ${base64}\n` +
    `  add it to the corpus: echo '<base64>' | base64 -d > test/fuzz/corpus/${target}/<name>`;
  const error = new Error(message, { cause });
  return error;
}

/** Splits `data` at random points into 1..n chunks (fresh buffers: readers may keep views). */
export function randomSplits(rng: Rng, data: Buffer, maxPieces = 8): Buffer[] {
  const cuts = new Set<number>();
  const n = rng.int(maxPieces);
  for (let i = 0; i < n; i++) cuts.add(rng.int(data.length + 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), data.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++)
    out.push(Buffer.from(data.subarray(points[i - 1], points[i])));
  return out;
}

/** Records the largest Buffer.allocUnsafe / Buffer.alloc request made while `fn` runs. */
export function largestAllocation<T>(fn: () => T): { result: T; largest: number } {
  const allocUnsafe = Buffer.allocUnsafe;
  const alloc = Buffer.alloc;
  let largest = 0;
  Buffer.allocUnsafe = ((size: number) => {
    largest = Math.max(largest, size);
    return allocUnsafe(size);
  }) as typeof Buffer.allocUnsafe;
  Buffer.alloc = ((
    size: number,
    ...rest: Parameters<typeof Buffer.alloc> extends [number, ...infer R] ? R : never
  ) => {
    largest = Math.max(largest, size);
    return alloc(size, ...rest);
  }) as typeof Buffer.alloc;
  try {
    return { result: fn(), largest };
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
    Buffer.alloc = alloc;
  }
}
