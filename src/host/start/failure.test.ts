// How a failed start is labelled: the steps' PluginErrors pass as they are; anything else is a bug
// in plugwire (INTERNAL), never a HANDSHAKE_INVALID blamed on the plugin.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PluginError } from "../../errors/plugin-error.ts";
import { StderrTail } from "../client/stderr-mirror.ts";
import { classifyFailure, startFailure } from "./failure.ts";

describe("start failures: classification", () => {
  it("an unexpected error is INTERNAL, a bug in plugwire to report, naming the plugin, with the cause", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'pid')");
    const error = classifyFailure(bug, "kv", "starting it");
    assert.equal(error.code, "INTERNAL");
    assert.equal(error.plugin, "kv");
    assert.equal(error.cause, bug);
    assert.match(
      error.message,
      /^\[INTERNAL\] plugin kv: plugwire failed while starting it \(TypeError: Cannot read/,
    );
    assert.match(
      error.message,
      /bug in plugwire[\s\S]*report it at https:\/\/github\.com\/plugwire\/plugwire\/issues/,
    );
  });

  it("a thrown value that is not an Error is INTERNAL too", () => {
    const error = classifyFailure("oops", "kv", "attaching to it");
    assert.equal(error.code, "INTERNAL");
    assert.equal(error.cause, "oops");
    assert.match(error.message, /while attaching to it \(oops\)/);
  });

  it("a PluginError passes unchanged (named for the plugin when it was not)", () => {
    const named = new PluginError("HANDSHAKE_INVALID", "bad line", { plugin: "kv" });
    assert.equal(classifyFailure(named, "kv", "starting it"), named);
    const anonymous = new PluginError("TLS_FAILED", "bad cert", { details: { field: 6 } });
    const error = classifyFailure(anonymous, "kv", "starting it");
    assert.equal(error.code, "TLS_FAILED");
    assert.equal(error.rawMessage, "bad cert");
    assert.equal(error.plugin, "kv");
    assert.deepEqual(error.details, { field: 6 });
  });

  it("after a spawn: pid and path in the details, the stderr tail only where it explains the failure", () => {
    const tail = new StderrTail();
    tail.push("panic: no config");
    const facts = { cmd: "/bin/kv", pid: 42, tail };
    const internal = startFailure(new RangeError("bad"), "kv", facts);
    assert.equal(internal.code, "INTERNAL");
    assert.deepEqual(internal.details, { pid: 42, path: "/bin/kv" });
    assert.doesNotMatch(internal.message, /panic/);
    const invalid = startFailure(new PluginError("HANDSHAKE_INVALID", "bad line"), "kv", facts);
    assert.match(invalid.message, /bad line\nPlugin stderr \(last lines\):\n {2}panic: no config/);
    assert.equal(invalid.details.pid, 42);
  });
});
