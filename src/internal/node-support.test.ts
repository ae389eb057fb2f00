import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { minimumNode, unsupportedNode } from "./node-support.ts";

describe("supported Node versions", () => {
  it("accepts the floor and everything newer", () => {
    for (const version of [
      `${minimumNode.major}.${minimumNode.minor}.0`,
      "22.18.1",
      "24.0.0",
      "26.1.0",
    ])
      assert.equal(unsupportedNode(version), undefined, version);
  });

  it("refuses older versions in one sentence that names both versions and what to do", () => {
    for (const version of ["20.20.2", "22.11.0", "18.0.0"]) {
      const problem = unsupportedNode(version);
      assert.ok(problem !== undefined, version);
      assert.match(problem, new RegExp(`Node\\.js ${version.replaceAll(".", "\\.")}\\.`));
      assert.match(problem, /22\.12 or newer/);
      assert.match(problem, /Install a current LTS/);
    }
  });
});
