// Fuzzes the two framings a peer reads: the fast wire's FrameReader and call head decoder
// (src/rpc/fast/frames.ts) and gRPC's length-prefixed FrameDecoder (src/rpc/grpc/framing.ts). Inputs
// are valid frame sequences, mutations of them and the corpus, fed in random splits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../src/errors/plugin-error.ts";
import type { Frame } from "../../src/rpc/fast/frames.ts";
import { FrameReader } from "../../src/rpc/fast/frames.ts";
import { decodeCallHead, decodeStatus } from "../../src/rpc/fast/payloads.ts";
import { AllocationBudget, FrameDecoder } from "../../src/rpc/grpc/framing.ts";
import {
  fuzz,
  fuzzIterations,
  largestAllocation,
  loadCorpus,
  mutate,
  Rng,
  randomSplits,
} from "./support.ts";

const cap = 4096;

function fastFrame(type: number, id: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(9);
  head.writeUInt32BE(payload.length, 0);
  head[4] = type;
  head.writeUInt32BE(id, 5);
  return Buffer.concat([head, payload]);
}

function grpcFrame(payload: Buffer, flag = 0, length = payload.length): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = flag;
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, payload]);
}

describe("fuzz: fast-wire frames", () => {
  const corpus = loadCorpus("fast-frames");
  const others = corpus.map((c) => c.data);

  /** A random valid sequence and the frames it must decode to, whatever the splits. */
  function validSequence(rng: Rng) {
    const frames = Array.from({ length: 1 + rng.int(6) }, () => ({
      type: 1 + rng.int(8),
      id: rng.int(2 ** 32),
      payload: rng.bytes(rng.chance(0.1) ? cap : rng.int(300)),
    }));
    return { frames, bytes: Buffer.concat(frames.map((f) => fastFrame(f.type, f.id, f.payload))) };
  }

  function read(chunks: Buffer[]) {
    const frames: Frame[] = [];
    const oversize: number[] = [];
    const reader = new FrameReader(cap, {
      frame: (f) => frames.push({ ...f, payload: Buffer.from(f.payload) }),
      oversize: (_t, _i, length) => oversize.push(length),
    });
    const { largest } = largestAllocation(() => {
      for (const chunk of chunks) reader.push(chunk);
    });
    return { frames, oversize, largest, idle: reader.idle };
  }

  it("a valid sequence decodes to the same frames in any split", async () => {
    await fuzz({
      target: "fast-frames",
      corpus: [],
      iterations: fuzzIterations(2000),
      generate: (rng) => Buffer.from(JSON.stringify({ seed: rng.int(2 ** 31) })),
      check(input) {
        // The input is a seed for the sequence, so a failure prints what reproduces it.
        const seed = (JSON.parse(input.toString()) as { seed: number }).seed;
        const r = new Rng(seed);
        const { frames, bytes } = validSequence(r);
        const out = read(randomSplits(r, bytes, 10));
        assert.equal(out.frames.length, frames.length);
        out.frames.forEach((f, i) => {
          assert.equal(f.type, frames[i]!.type);
          assert.equal(f.id, frames[i]!.id);
          assert.ok(f.payload.equals(frames[i]!.payload));
        });
        assert.equal(out.idle, true);
      },
    });
  });

  it("any bytes in any split: no throw, payloads within the cap, oversize reported, allocations within the cap", async () => {
    await fuzz({
      target: "fast-frames",
      corpus,
      iterations: fuzzIterations(3000),
      generate: (rng) =>
        rng.chance(0.7)
          ? mutate(rng, rng.chance(0.5) ? rng.pick(others) : validSequence(rng).bytes, [], others)
          : rng.bytes(rng.int(600)),
      check(input, rng) {
        const out = read(randomSplits(rng, input, 10));
        let consumed = 0;
        for (const f of out.frames) {
          assert.ok(f.payload.length <= cap, `payload of ${f.payload.length} over the cap`);
          consumed += 9 + f.payload.length;
        }
        assert.ok(consumed <= input.length, "more frame bytes than input");
        for (const length of out.oversize) assert.ok(length > cap);
        // The cap bounds every buffer the reader allocates (a 19-byte frame may not make it
        // allocate more than the cap plus a head).
        assert.ok(out.largest <= cap + 9, `allocated ${out.largest} bytes (cap ${cap})`);
        // The payloads a server decodes next: a call head is decoded or refused with the
        // documented RangeError/SyntaxError, never a bigger structure than the payload; a
        // status frame always decodes.
        for (const f of out.frames) {
          if (f.type === 1) {
            try {
              const head = decodeCallHead(f.payload);
              assert.ok(head.messageOffset <= f.payload.length);
              assert.ok(head.path.length <= f.payload.length); // invalid UTF-8 decodes to U+FFFD
            } catch (error) {
              assert.ok(
                error instanceof RangeError || error instanceof SyntaxError,
                `decodeCallHead threw ${String(error)}`,
              );
            }
          }
          if (f.type === 4) assert.equal(typeof decodeStatus(f.payload).code, "number");
        }
      },
    });
  });

  // Issue 14 #11: the reader allocates the announced length up front, so 19 bytes announcing
  // 96 MiB reserve 96 MiB (below the 256 MiB default cap). The fix grows the buffer as bytes come.
  it("allocates no more than the bytes received (issue 14 #11)", () => {
    const head = Buffer.alloc(9);
    head.writeUInt32BE(96 << 20, 0);
    head[4] = 2;
    const reader = new FrameReader(256 << 20, { frame() {}, oversize() {} });
    const { largest } = largestAllocation(() =>
      reader.push(Buffer.concat([head, Buffer.alloc(10)])),
    );
    assert.ok(largest <= 64 * 1024, `allocated ${largest} bytes for 19 received`);
  });

  it("a call head whose metadata is not a map of strings is refused with a RangeError", () => {
    for (const name of ["metadata-not-object", "metadata-non-string"]) {
      const data = corpus.find((c) => c.name === name)!.data;
      const frames = read([data]).frames;
      assert.throws(() => decodeCallHead(frames[0]!.payload), RangeError, name);
    }
  });
});

describe("fuzz: gRPC length-prefixed framing", () => {
  const corpus = loadCorpus("grpc-framing");
  const others = corpus.map((c) => c.data);
  const codes = new Set(["INTERNAL", "RESOURCE_EXHAUSTED"]);

  it("valid messages decode the same in any split, borrowed or not; any bytes: payloads within the limit or a coded PluginError", async () => {
    await fuzz({
      target: "grpc-framing",
      corpus,
      iterations: fuzzIterations(3000),
      generate: (rng) => {
        const messages = Array.from({ length: rng.int(5) }, () =>
          rng.bytes(rng.chance(0.1) ? cap : rng.int(200)),
        );
        const valid = Buffer.concat(messages.map((m) => grpcFrame(m)));
        return rng.chance(0.3)
          ? valid
          : mutate(rng, rng.chance(0.5) ? valid : rng.pick(others), [], others);
      },
      check(input, rng) {
        const budgetBytes = rng.int(2 * cap);
        const budget = rng.chance(0.5) ? new AllocationBudget(budgetBytes) : undefined;
        const decoder = new FrameDecoder(cap, budget);
        const out: Uint8Array[] = [];
        // Borrowed: each chunk sits in one reused read buffer, scribbled over after each push,
        // so a payload that kept a view of it would no longer match the input.
        const borrowed = rng.chance(0.5);
        const readBuffer = Buffer.alloc(input.length);
        let error: unknown;
        try {
          for (const chunk of randomSplits(rng, input, 10)) {
            if (!borrowed) {
              out.push(...decoder.push(chunk));
              continue;
            }
            chunk.copy(readBuffer);
            out.push(...decoder.push(readBuffer.subarray(0, chunk.length), true));
            readBuffer.fill(0xa5);
          }
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          assert.ok(error instanceof PluginError, `threw a non-PluginError: ${String(error)}`);
          assert.ok(codes.has(error.code), `undocumented code ${error.code}`);
        }
        let offset = 0;
        for (const payload of out) {
          assert.ok(payload.byteLength <= cap, "payload over the limit");
          // Differential: each payload is exactly the bytes after its prefix in the input.
          assert.ok(input.subarray(offset + 5, offset + 5 + payload.byteLength).equals(payload));
          offset += 5 + payload.byteLength;
        }
        assert.ok(offset <= input.length);
        if (error === undefined && offset === input.length) assert.equal(decoder.idle, true);
        decoder.discard();
        if (budget !== undefined) assert.equal(budget.left, budgetBytes, "budget not handed back");
      },
    });
  });

  it("a prefix announcing more than the limit fails at once, before the payload arrives", () => {
    const decoder = new FrameDecoder(cap);
    assert.throws(
      () => decoder.push(grpcFrame(Buffer.alloc(0), 0, 0xffffffff)),
      (e: unknown) => e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED",
    );
    assert.throws(
      () => new FrameDecoder(cap).push(grpcFrame(Buffer.from([8, 1]), 1)),
      (e: unknown) => e instanceof PluginError && e.code === "INTERNAL",
    );
  });
});
