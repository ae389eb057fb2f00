// Issue 14, defect 10: a slow `stderr` sink makes the host pause reading the plugin's stderr
// pipe (the plugin then blocks on its writes) instead of buffering everything the plugin writes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { waitFor } from "../../../test/support/fixture.ts";
import { mirrorStderr, StderrTail } from "./stderr-mirror.ts";

const floodBytes = 32 * 1024 * 1024;

describe("stderr mirror back-pressure (issue 14, defect 10)", () => {
  it("pauses the plugin's stderr while the raw sink is full, then delivers every byte", async () => {
    // A process that writes 32 MiB of log lines to stderr as fast as the pipe takes them.
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const line = "x".repeat(1023) + "\\n"; let left = ${floodBytes / 1024};
         const go = () => { while (left > 0) { left--; if (!process.stderr.write(line)) return process.stderr.once("drain", go); } };
         go();`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const held: Array<() => void> = [];
    let received = 0;
    let peakBuffered = 0;
    let releasing = false;
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer | string, _encoding, callback) {
        received += Buffer.byteLength(chunk);
        if (releasing) callback();
        else held.push(callback);
      },
    });
    const write = sink.write.bind(sink);
    sink.write = ((chunk: string) => {
      const ok = write(chunk);
      peakBuffered = Math.max(peakBuffered, sink.writableLength);
      return ok;
    }) as typeof sink.write;
    const done = mirrorStderr(
      child.stderr!,
      { name: "flood", logger: undefined, stderr: sink },
      new StderrTail(),
    );
    try {
      // The sink takes its first chunk and holds it: the host must stop reading.
      await waitFor(() => held.length > 0 && child.stderr!.isPaused(), 10_000, "the pipe to pause");
      const bufferedWhilePaused = sink.writableLength;
      assert.ok(
        bufferedWhilePaused <= 256 * 1024,
        `the host buffered ${bufferedWhilePaused} bytes`,
      );
      releasing = true;
      for (const callback of held.splice(0)) callback();
      await done;
      assert.equal(received, floodBytes);
      assert.ok(peakBuffered <= 256 * 1024, `peak buffered ${peakBuffered} bytes`);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
