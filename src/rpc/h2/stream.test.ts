import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameType } from "./frames.ts";
import type { StreamEvents, StreamHost } from "./stream.ts";
import { H2Stream } from "./stream.ts";

/** A connection that records the frames a stream writes (the test is about the stream's logic). */
function recordingHost(): {
  host: StreamHost;
  frames: Array<{ type: number; id: number; increment: number }>;
} {
  const frames: Array<{ type: number; id: number; increment: number }> = [];
  const writer = {
    frame(type: number, _flags: number, id: number, payload?: Buffer) {
      frames.push({ type, id, increment: payload?.readUInt32BE(0) ?? 0 });
    },
  };
  const host = {
    writer,
    maxFrameBytes: 16_384,
    sendWindow: 65_535,
    waitForWindow() {},
    headers() {},
    streamClosed() {},
  } as unknown as StreamHost;
  return { host, frames };
}

const events: StreamEvents = { onHeaders() {}, onData() {}, onReset() {} };
const MiB = 1024 * 1024;

describe("H2Stream's receive window", () => {
  it("widens at once for a message large against the window, once, and not for small ones", () => {
    const { host, frames } = recordingHost();
    const stream = new H2Stream(host, 1, events, 65_535, MiB);
    stream.largeMessageWindowBytes = 4 * MiB;
    stream.expectMessage(64);
    stream.expectMessage(MiB / 4 - 1);
    assert.deepEqual(
      frames,
      [],
      "a message under a quarter of the window waits for credit as before",
    );
    stream.expectMessage(MiB);
    assert.deepEqual(frames, [{ type: FrameType.windowUpdate, id: 1, increment: 3 * MiB }]);
    assert.equal(stream.receiveWindow, 4 * MiB);
    stream.expectMessage(16 * MiB);
    assert.equal(frames.length, 1, "widened once, to the large-message window");
    // Credit now comes a quarter of the widened window at a time.
    stream.credit(MiB - 1);
    assert.equal(frames.length, 1);
    stream.credit(1);
    assert.deepEqual(frames[1], { type: FrameType.windowUpdate, id: 1, increment: MiB });
  });

  it("does not widen a stream the peer has ended, or past a window already as large", () => {
    const { host, frames } = recordingHost();
    const ended = new H2Stream(host, 1, events, 65_535, MiB);
    ended.largeMessageWindowBytes = 4 * MiB;
    ended.endRemote();
    ended.expectMessage(MiB);
    const plain = new H2Stream(host, 3, events, 65_535, MiB);
    plain.largeMessageWindowBytes = MiB; // no widening configured
    plain.expectMessage(MiB);
    assert.deepEqual(frames, []);
  });
});
