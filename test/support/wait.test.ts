// The shared polling helper: what it resolves with, and what its failures say.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "./wait.ts";

describe("waitFor", () => {
  it("resolves with the condition's first truthy value", async () => {
    let polls = 0;
    const found = await waitFor(() => (++polls === 3 ? { polls } : undefined), 5000, "3 polls");
    assert.deepEqual(found, { polls: 3 });
  });

  it("names what it waited for, how long, and what it saw when the deadline passes", async () => {
    await assert.rejects(
      waitFor(
        () => false,
        30,
        "the door to open",
        () => "shut",
      ),
      {
        message: "timed out after 30 ms waiting for the door to open; seen: shut",
      },
    );
  });

  it("names the condition's code when the caller gives no description", async () => {
    await assert.rejects(
      waitFor(() => 1 > 2, 30),
      {
        message: "timed out after 30 ms waiting for `() => 1 > 2`",
      },
    );
  });

  it("stops at once with the error a condition throws", async () => {
    const started = performance.now();
    await assert.rejects(
      waitFor(() => {
        throw new Error("the peer exited");
      }, 5000),
      { message: "the peer exited" },
    );
    assert.ok(performance.now() - started < 1000);
  });
});
