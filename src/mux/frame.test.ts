import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FrameHeader } from "./frame.ts";
import { decodeHeader, encodeHeader, Flag, FrameParser, FrameType, headerBytes } from "./frame.ts";

interface Event {
  kind: "header" | "payload" | "end";
  header: FrameHeader;
  bytes?: string;
}

function collect(): { parser: FrameParser; events: Event[] } {
  const events: Event[] = [];
  const parser = new FrameParser({
    header: (header) => events.push({ kind: "header", header }),
    payload: (header, chunk) => events.push({ kind: "payload", header, bytes: chunk.toString() }),
    end: (header) => events.push({ kind: "end", header }),
  });
  return { parser, events };
}

describe("yamux frames", () => {
  it("encodes the 12-byte big-endian header of hashicorp/yamux", () => {
    const header = encodeHeader(
      FrameType.WINDOW_UPDATE,
      Flag.SYN | Flag.FIN,
      0x01020304,
      0x0a0b0c0d,
    );
    assert.equal(header.length, headerBytes);
    assert.deepEqual([...header], [0, 1, 0, 5, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d]);
    assert.deepEqual(decodeHeader(header), {
      version: 0,
      type: FrameType.WINDOW_UPDATE,
      flags: Flag.SYN | Flag.FIN,
      streamId: 0x01020304,
      length: 0x0a0b0c0d,
    });
    const ping = encodeHeader(FrameType.PING, Flag.ACK, 0, 0xffff_ffff);
    assert.deepEqual([...ping], [0, 2, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  });

  it("parses frames however the bytes are split", () => {
    const wire = Buffer.concat([
      encodeHeader(FrameType.DATA, Flag.SYN, 1, 5),
      Buffer.from("hello"),
      encodeHeader(FrameType.PING, Flag.SYN, 0, 7),
      encodeHeader(FrameType.DATA, Flag.FIN, 1, 0),
      encodeHeader(FrameType.DATA, 0, 3, 3),
      Buffer.from("abc"),
    ]);
    const whole = collect();
    whole.parser.push(wire);
    const summary = (events: Event[]) => {
      const out: string[] = [];
      for (const e of events) {
        if (e.kind === "payload") {
          const last = out.at(-1);
          if (last?.startsWith("payload:")) out[out.length - 1] = last + e.bytes;
          else out.push(`payload:${e.bytes}`);
        } else {
          out.push(
            `${e.kind}:${e.header.type}/${e.header.flags}/${e.header.streamId}/${e.header.length}`,
          );
        }
      }
      return out;
    };
    const expected = [
      "header:0/1/1/5",
      "payload:hello",
      "end:0/1/1/5",
      "header:2/1/0/7",
      "end:2/1/0/7",
      "header:0/4/1/0",
      "end:0/4/1/0",
      "header:0/0/3/3",
      "payload:abc",
      "end:0/0/3/3",
    ];
    assert.deepEqual(summary(whole.events), expected);
    for (const size of [1, 2, 5, 11, 13]) {
      const split = collect();
      for (let i = 0; i < wire.length; i += size) split.parser.push(wire.subarray(i, i + size));
      assert.deepEqual(summary(split.events), expected, `chunks of ${size}`);
    }
  });

  it("stops reporting after stop()", () => {
    const events: string[] = [];
    const parser: FrameParser = new FrameParser({
      header: (header) => {
        events.push(`header ${header.streamId}`);
        parser.stop();
      },
      payload: () => events.push("payload"),
      end: () => events.push("end"),
    });
    parser.push(
      Buffer.concat([
        encodeHeader(FrameType.DATA, 0, 1, 1),
        Buffer.from("x"),
        encodeHeader(FrameType.DATA, 0, 3, 0),
      ]),
    );
    assert.deepEqual(events, ["header 1"]);
  });
});
