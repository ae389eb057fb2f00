// Fuzzes the host's log mirror: parseLogLine (src/protocol/hclog.ts) on single lines, and
// mirrorStderr (src/host/client/stderr-mirror.ts) on whole streams cut at random points. Never a throw,
// levels from hclog's five, messages no longer than their line, the stream always settles.
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import { createConsoleLogger } from "../../src/host/client/console-logger.ts";
import { mirrorStderr, StderrTail } from "../../src/host/client/stderr-mirror.ts";
import type { ParsedLogLine } from "../../src/protocol/hclog.ts";
import { logLevels, parseLogLine } from "../../src/protocol/hclog.ts";
import type { Rng } from "./support.ts";
import { fuzz, fuzzIterations, loadCorpus, mutate, randomSplits } from "./support.ts";

const corpus = loadCorpus("hclog");
const dictionary = [
  '"@level":',
  '"@message":',
  '"@timestamp":',
  '"info"',
  '"ERROR"',
  '"2026-11-22T04:12:11.462000Z"',
  "null",
  "true",
  "1e308",
  "-0",
  "123456789012345678901234567890",
  "{",
  "}",
  "[",
  "]",
  ",",
  '"',
  "\\u0000",
  "\\ud800",
  "panic: ",
  "[WARN] ",
  "\n",
  "\r\n",
  "\xff\xfe",
  "\xc3",
  "☃",
].map((s) => Buffer.from(s, s === "☃" ? "utf8" : "latin1"));

/** JSON-aware edits: a value replaced by another type, nesting, a huge number, an extra key. */
function generate(rng: Rng): Buffer {
  const base = rng.pick(corpus).data;
  if (rng.chance(0.6))
    return mutate(
      rng,
      base,
      dictionary,
      corpus.map((c) => c.data),
      64 * 1024,
    );
  const values = ["1", "null", "[]", "{}", '"x"', "1e999", "true", '{"a":[1,{"b":null}]}'];
  const depth = 1 + rng.int(300);
  const nested = "[".repeat(depth) + "]".repeat(depth);
  const entry: Record<string, string> = {
    '"@level"': rng.pick(['"info"', '"warn"', '"TRACE"', ...values]),
    '"@message"': rng.pick(['"m"', ...values, nested]),
    '"@timestamp"': rng.pick(['"2026-11-22T04:12:11.462000Z"', '"yesterday"', ...values]),
  };
  const keys = Object.keys(entry).filter(() => rng.chance(0.8));
  const extra = rng.pick(['"plugin"', '"__proto__"', '"k"', '"@module"', '""']);
  const body = [
    ...keys.map((k) => `${k}:${entry[k]}`),
    `${extra}:${rng.pick([...values, nested])}`,
  ];
  return Buffer.from(`{${body.join(",")}}`, "utf8");
}

function checkEntry(line: string, entry: ParsedLogLine, state: { panicMode: boolean }): void {
  assert.ok((logLevels as readonly string[]).includes(entry.level), `level ${entry.level}`);
  assert.equal(typeof entry.message, "string");
  assert.ok(entry.message.length <= line.length, "message longer than its line");
  assert.ok(
    typeof entry.fields === "object" && entry.fields !== null && !Array.isArray(entry.fields),
  );
  assert.equal(Object.getPrototypeOf(entry.fields), Object.prototype, "fields is a plain object");
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "prototype polluted");
  if (entry.problem !== undefined) {
    assert.equal(typeof entry.problem, "string");
    assert.equal(entry.message, line, "a malformed entry is mirrored raw");
  }
  if (state.panicMode && !line.startsWith("{")) assert.equal(entry.level, "error");
}

describe("fuzz: hclog lines", () => {
  it("parseLogLine: never throws, a known level, a message no longer than the line", async () => {
    await fuzz({
      target: "hclog",
      corpus,
      iterations: fuzzIterations(3000),
      generate,
      check(input) {
        const line = input.toString("utf8");
        for (const panicMode of [false, true]) {
          const state = { panicMode };
          checkEntry(line, parseLogLine(line, state), state);
        }
      },
    });
  });

  it("mirrorStderr: random chunking, invalid UTF-8 and long lines; settles, pieces bounded", async () => {
    const lineBytes = 256;
    await fuzz({
      target: "hclog",
      corpus,
      iterations: fuzzIterations(300),
      generate: (rng) => {
        const lines = Array.from({ length: 1 + rng.int(6) }, () =>
          rng.chance(0.2) ? rng.bytes(rng.int(1200)) : generate(rng),
        );
        return Buffer.concat(lines.flatMap((l) => [l, Buffer.from(rng.pick(["\n", "\r\n"]))]));
      },
      async check(input, rng) {
        const stream = new PassThrough();
        const entries: ParsedLogLine[] = [];
        const tail = new StderrTail();
        const done = mirrorStderr(
          stream,
          { name: "fuzz", logger: undefined, lineBytes, onEntry: (e) => entries.push(e) },
          tail,
        );
        for (const piece of randomSplits(rng, input, 12)) stream.write(piece);
        stream.end();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          done,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error("mirrorStderr did not settle")), 1000);
          }),
        ]).finally(() => clearTimeout(timer));
        const text = input.toString("utf8");
        let total = 0;
        for (const entry of entries) {
          assert.ok((logLevels as readonly string[]).includes(entry.level));
          // A piece of an over-long line comes from at most lineBytes bytes of input (each
          // decodes to at most one UTF-16 unit, invalid ones to U+FFFD), and nothing is
          // invented: every message is part of the input.
          if (entry.problem === "line too long") assert.ok(entry.message.length <= lineBytes);
          total += entry.message.length;
        }
        assert.ok(total <= text.length, "more text mirrored than was written");
        assert.ok(tail.lines.length <= 20);
        assert.ok(tail.lines.every((l) => l.length <= 501));
      },
    });
  });

  // Found by this fuzzer, fixed since: deep nesting is mirrored as a raw line, and pieces and
  // the raw copy count bytes.
  it("a mirrored entry's fields can always be logged: a 64 KiB line nested 32,000 deep", () => {
    const depth = 32_000; // 64 KB: under the default logLineBytes (64 KiB)
    const line = `{"@level":"info","@message":"x","a":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const entry = parseLogLine(line, { panicMode: false });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const logger = createConsoleLogger({ stream: sink });
    assert.doesNotThrow(() => logger.info(entry.message, entry.fields));
  });

  it("pieces of an over-long line are at most logLineBytes bytes, and the raw copy is byte for byte", async () => {
    const stream = new PassThrough();
    const entries: ParsedLogLine[] = [];
    const raw: Buffer[] = [];
    const copy = new Writable({
      write: (chunk, _e, cb) => {
        raw.push(Buffer.from(chunk));
        cb();
      },
    });
    const done = mirrorStderr(
      stream,
      {
        name: "fuzz",
        logger: undefined,
        lineBytes: 64,
        stderr: copy,
        onEntry: (e) => entries.push(e),
      },
      new StderrTail(),
    );
    const input = Buffer.concat([Buffer.from("☃".repeat(100)), Buffer.from([0xff, 0x0a])]);
    stream.end(input);
    await done;
    for (const e of entries)
      assert.ok(Buffer.byteLength(e.message) <= 64, `${Buffer.byteLength(e.message)} bytes`);
    assert.deepEqual(Buffer.concat(raw), input);
  });
});
