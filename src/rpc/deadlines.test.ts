// Deadlines of any length on both wires, checked before the call starts, and grpc-timeout as the
// gRPC spec writes it: a long deadline never fires early (Node fires timers beyond 2³¹−1 ms at
// once), NaN and negative values are refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startFixture } from "../../test/support/fixture.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { callTimeoutMs, maxTimerMs, startDeadlineTimer } from "./core/deadline.ts";
import { formatGrpcTimeout, parseGrpcTimeout } from "./grpc/timeout.ts";

const day = 86_400_000;

describe("grpc-timeout", () => {
  it("is written with at most 8 digits in the finest unit that holds them, rounded up", () => {
    assert.equal(formatGrpcTimeout(0), "0n");
    assert.equal(formatGrpcTimeout(5), "5000000n");
    assert.equal(formatGrpcTimeout(0.5), "500000n");
    assert.equal(formatGrpcTimeout(1000), "1000000u");
    assert.equal(formatGrpcTimeout(99_999), "99999000u");
    assert.equal(formatGrpcTimeout(100_000), "100000m");
    assert.equal(formatGrpcTimeout(maxTimerMs), "2147484S");
    assert.equal(formatGrpcTimeout(30 * day), "2592000S");
    assert.equal(formatGrpcTimeout(2e11), "3333334M");
    assert.equal(formatGrpcTimeout(Number.MAX_SAFE_INTEGER), "99999999H");
    for (const ms of [1, 7.25, 1e3, 123_456_789, maxTimerMs + 1, 30 * day, 5e12]) {
      const text = formatGrpcTimeout(ms);
      assert.match(text, /^\d{1,8}[HMSmun]$/);
      const back = parseGrpcTimeout(text)!;
      const unit = parseGrpcTimeout(`1${text.at(-1)}`)!;
      assert.ok(back >= ms && back - ms < unit, `${ms} → ${text} → ${back}`);
    }
  });

  it("is read in every unit, and a malformed one is no deadline", () => {
    assert.equal(parseGrpcTimeout("2H"), 7_200_000);
    assert.equal(parseGrpcTimeout("3M"), 180_000);
    assert.equal(parseGrpcTimeout("2592000S"), 30 * day);
    assert.equal(parseGrpcTimeout("15m"), 15);
    assert.equal(parseGrpcTimeout("1500u"), 1.5);
    assert.equal(parseGrpcTimeout("2000000n"), 2);
    for (const bad of ["", "1", "123456789m", "-1S", "1.5S", "1s", " 1S"])
      assert.equal(parseGrpcTimeout(bad), undefined, bad);
  });
});

describe("call timeouts", () => {
  it("accept non-negative numbers, Infinity as none, and refuse anything else with CONFIG_INVALID", () => {
    assert.equal(callTimeoutMs(undefined), undefined);
    assert.equal(callTimeoutMs(Number.POSITIVE_INFINITY), undefined);
    assert.equal(callTimeoutMs(0), 0);
    assert.equal(callTimeoutMs(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    for (const bad of [Number.NaN, -1, Number.NEGATIVE_INFINITY, "100", null]) {
      assert.throws(
        () => callTimeoutMs(bad),
        (error: unknown) =>
          error instanceof PluginError &&
          error.code === "CONFIG_INVALID" &&
          /`timeoutMs` call option/.test(error.message),
      );
    }
  });

  it("a deadline timer longer than one step is re-armed and fires once, on time", async () => {
    const started = performance.now();
    let fired = 0;
    await new Promise<void>((resolve) => {
      startDeadlineTimer(
        60,
        () => {
          fired++;
          resolve();
        },
        7,
      );
    });
    assert.equal(fired, 1);
    assert.ok(performance.now() - started >= 59, "not before its deadline");
  });

  it("a cancelled deadline timer never fires", async () => {
    let fired = false;
    const stop = startDeadlineTimer(20, () => (fired = true), 5);
    stop();
    await new Promise((resolve) => startDeadlineTimer(60, () => resolve(undefined)));
    assert.equal(fired, false);
  });
});

const wires = [
  { label: "fast wire", options: {} },
  { label: "gRPC", options: { fastWire: false } },
] as const;

describe("long deadlines between a TypeScript host and a TypeScript plugin", () => {
  for (const wire of wires) {
    it(`${wire.label}: deadlines of 2³¹ ms, 30 days, MAX_SAFE_INTEGER and Infinity do not fire early`, async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.name);
      process.on("warning", onWarning);
      try {
        await using plugin = await startFixture("test-grpc", wire.options);
        assert.equal(plugin.wire, wire.label === "gRPC" ? "grpc" : "fast");
        const fixture = plugin.dispense("fixture");
        for (const timeoutMs of [2 ** 31, 30 * day]) {
          const { deadlineRemainingMs } = await fixture.sleep({ durationMs: 50 }, { timeoutMs });
          // The plugin saw the deadline it was given (gRPC rounds it up to a whole second).
          assert.ok(
            deadlineRemainingMs > timeoutMs - 60_000 && deadlineRemainingMs <= timeoutMs + 1000,
            `${timeoutMs}: the handler saw ${deadlineRemainingMs} ms left`,
          );
        }
        for (const timeoutMs of [2 ** 32 + 5, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
          const { Output: output } = await plugin
            .dispense("test")
            .double({ Input: 21 }, { timeoutMs });
          assert.equal(output, 42, `timeoutMs ${timeoutMs}`);
          const counted: number[] = [];
          for await (const { i } of fixture.count({ n: 3 }, { timeoutMs })) counted.push(i);
          assert.deepEqual(counted, [0, 1, 2]);
        }
        assert.deepEqual(
          warnings.filter((name) => name === "TimeoutOverflowWarning"),
          [],
        );
      } finally {
        process.off("warning", onWarning);
      }
    });

    it(`${wire.label}: NaN, negative and non-number timeouts are CONFIG_INVALID before the call`, async () => {
      await using plugin = await startFixture("test-grpc", wire.options);
      const fixture = plugin.dispense("fixture");
      for (const timeoutMs of [Number.NaN, -1, "100" as unknown as number]) {
        await assert.rejects(
          fixture.sleep({ durationMs: 0 }, { timeoutMs }),
          (error: unknown) =>
            error instanceof PluginError &&
            error.code === "CONFIG_INVALID" &&
            error.message.includes(`plugin ${plugin.name}`) &&
            /`timeoutMs` call option/.test(error.message),
        );
        await assert.rejects(
          async () => {
            for await (const _ of fixture.count({ n: 1 }, { timeoutMs })) {
              // never reached
            }
          },
          (error: unknown) => error instanceof PluginError && error.code === "CONFIG_INVALID",
        );
      }
      // The plugin is fine and no handler ran for the refused calls.
      assert.equal((await fixture.cancelled({})).cancelled, 0);
      assert.equal((await plugin.dispense("test").double({ Input: 1 })).Output, 2);
    });
  }
});
