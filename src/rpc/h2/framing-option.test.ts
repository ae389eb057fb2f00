import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../errors/plugin-error.ts";
import { resolveGrpcFraming } from "./framing-option.ts";

describe("choosing the gRPC framing", () => {
  it("is plugwire's h2 unless told otherwise", () => {
    assert.equal(resolveGrpcFraming(undefined, {}), "h2");
    assert.equal(resolveGrpcFraming(undefined, { PLUGWIRE_GRPC_FRAMING: "" }), "h2");
  });

  it("takes PLUGWIRE_GRPC_FRAMING, and the option over it", () => {
    assert.equal(
      resolveGrpcFraming(undefined, { PLUGWIRE_GRPC_FRAMING: "node-http2" }),
      "node-http2",
    );
    assert.equal(resolveGrpcFraming(undefined, { PLUGWIRE_GRPC_FRAMING: "h2" }), "h2");
    assert.equal(resolveGrpcFraming("h2", { PLUGWIRE_GRPC_FRAMING: "node-http2" }), "h2");
    assert.equal(resolveGrpcFraming("node-http2", {}), "node-http2");
  });

  it("refuses a value that names neither, saying where it came from", () => {
    assert.throws(
      () => resolveGrpcFraming(undefined, { PLUGWIRE_GRPC_FRAMING: "http2" }),
      (error: unknown) =>
        error instanceof PluginError &&
        error.code === "CONFIG_INVALID" &&
        /PLUGWIRE_GRPC_FRAMING is "http2"/.test(error.message) &&
        /"node-http2"/.test(error.message),
    );
    assert.throws(
      () => resolveGrpcFraming("nghttp2" as never, {}),
      (error: unknown) =>
        error instanceof PluginError &&
        error.code === "CONFIG_INVALID" &&
        /grpcFraming is "nghttp2"/.test(error.message),
    );
  });
});
