import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParallelProgress } from "./output.ts";

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, columns: 60, write: (text: string) => written.push(text) };
}

describe("parallel progress", () => {
  it("plain output: one line per step, prefixed with the plugin", () => {
    const out = stream(false);
    const board = new ParallelProgress(out);
    board.for("kv")("resolving");
    board.for("reports")("cloning");
    board.finish("kv");
    board.done();
    assert.deepEqual(out.written, ["… kv: resolving\n", "… reports: cloning\n"]);
  });

  it("on a terminal: one line with each running plugin's step, narrowed to the width, cleared at the end", () => {
    const out = stream(true);
    const board = new ParallelProgress(out);
    board.step("kv", "resolving");
    board.step("reports", "building with a long description of the step");
    board.finish("kv");
    board.done();
    assert.equal(out.written[0], "\r\x1b[2K… kv: resolving");
    assert.equal(
      out.written[1],
      "\r\x1b[2K… kv: resolving · reports: building with a long descriptio…",
    );
    assert.equal(
      out.written[2],
      "\r\x1b[2K… reports: building with a long description of the step",
    );
    assert.equal(out.written.at(-1), "\r\x1b[2K");
  });
});
