import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { EchoMessage } from "../../../test/fixtures/gen/fixture_pb.js";
import { EchoMessageSchema } from "../../../test/fixtures/gen/fixture_pb.js";
import { PluginError } from "../../errors/plugin-error.ts";
import { StdioDataSchema } from "../../gen/plugin/grpc_stdio_pb.js";
import { byReferenceBytes, encodeMessage } from "./codec.ts";

const join = (pieces: readonly Uint8Array[]) => Buffer.concat(pieces.map((p) => Buffer.from(p)));

describe("message encoding", () => {
  it("encodes small messages exactly as protobuf-es does, in one piece", () => {
    const message = create(EchoMessageSchema, { payload: Buffer.from("hello") });
    const pieces = encodeMessage(EchoMessageSchema, message, 1 << 20);
    assert.equal(pieces.length, 1);
    assert.deepEqual(join(pieces), Buffer.from(toBinary(EchoMessageSchema, message)));
  });

  it("sends large bytes fields by reference, and the result decodes to the same message", () => {
    const payload = Buffer.alloc(byReferenceBytes * 3, 9);
    const pieces = encodeMessage(EchoMessageSchema, { payload }, 1 << 30);
    assert.ok(pieces.includes(payload), "the caller's buffer is one of the pieces, not a copy");
    const decoded = fromBinary(EchoMessageSchema, join(pieces));
    assert.ok(Buffer.from(decoded.payload).equals(payload));
    // With other fields set too (StdioData: enum channel = 1, bytes data = 2).
    const data = Buffer.alloc(byReferenceBytes + 1, 3);
    const stdio = fromBinary(
      StdioDataSchema,
      join(encodeMessage(StdioDataSchema, { channel: 2, data }, 1 << 30)),
    );
    assert.equal(stdio.channel, 2);
    assert.ok(Buffer.from(stdio.data).equals(data));
  });

  it("refuses messages over the send limit with RESOURCE_EXHAUSTED", () => {
    assert.throws(
      () => encodeMessage(EchoMessageSchema, { payload: Buffer.alloc(200_000) }, 100_000),
      (e: unknown) => e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED",
    );
    assert.throws(
      () => encodeMessage(EchoMessageSchema, { payload: Buffer.alloc(2000) }, 1000),
      (e: unknown) => e instanceof PluginError && e.code === "RESOURCE_EXHAUSTED",
    );
  });

  it("accepts a message object as well as its init shape", () => {
    const message: EchoMessage = create(EchoMessageSchema, { payload: Buffer.from("x") });
    assert.deepEqual(
      join(encodeMessage(EchoMessageSchema, message, 100)),
      join(encodeMessage(EchoMessageSchema, { payload: Buffer.from("x") }, 100)),
    );
  });
});
