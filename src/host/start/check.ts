// The check step: one health call proves the connection (and TLS) works, so a broken plugin fails
// the start rather than the application's first call.
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { settlesWithin } from "../../internal/settle.ts";
import type { Step } from "../../internal/step.ts";
import { createClient } from "../../rpc/core/client.ts";
import type { Channel } from "../../rpc/core/types.ts";
import { isStartTimeout } from "./config.ts";

/** How long a plugin that fails the check may take to show it simply exited. */
const exitGraceMs = 200;

/**
 * Checks the connection within the step. A plugin may legitimately exit right after a valid
 * handshake: then the check's failure is dropped and the client reports the exit instead. The
 * step's signal ends the check: the start deadline with HANDSHAKE_TIMEOUT (the check's failure as
 * its cause), the caller's abort with CANCELLED.
 */
export async function connectionCheck(
  channel: Channel,
  tls: boolean,
  exited: Promise<unknown>,
  step: Step,
): Promise<void> {
  try {
    await checkConnection(channel, tls, step.signal);
  } catch (error) {
    if (step.signal.aborted) throw stopped(step.signal.reason, error);
    if (!(await settlesWithin(exited, exitGraceMs))) throw error;
  }
}

function stopped(reason: unknown, failure: unknown): PluginError {
  if (isStartTimeout(reason)) {
    return new PluginError(
      "HANDSHAKE_TIMEOUT",
      `${reason.rawMessage}: the plugin printed its handshake but did not answer the connection check (grpc.health.v1.Health/Check) in time`,
      { cause: failure, details: reason.details },
    );
  }
  return new PluginError("CANCELLED", "start was cancelled during the connection check", {
    cause: reason,
  });
}

/**
 * Only a real answer counts: the health response, or a gRPC status the plugin sent (UNIMPLEMENTED
 * included: go-plugin's Ping checks no status). Whatever plugwire concluded by itself (no
 * connection, a TLS failure, an answer that is not gRPC or does not decode) fails the start.
 */
async function checkConnection(channel: Channel, tls: boolean, signal: AbortSignal): Promise<void> {
  try {
    await createClient(Health, channel).check({ service: "plugin" }, { signal });
  } catch (error) {
    const failure = PluginError.from(error);
    if (failure.details.fromPeer === true) return;
    if (failure.code !== "UNAVAILABLE" && failure.code !== "DEADLINE_EXCEEDED") {
      throw new PluginError(
        "UNAVAILABLE",
        `the plugin did not answer the connection check (grpc.health.v1.Health/Check) with gRPC: ${failure.rawMessage}. ` +
          "Something listens at the address it announced, but it is not a working go-plugin gRPC server.",
        { cause: failure },
      );
    }
    throw unreachable(failure, tls);
  }
}

/** The connection check could not reach the plugin at all (either protocol). */
export function unreachable(failure: PluginError, tls: boolean): PluginError {
  return new PluginError(
    tls ? "TLS_FAILED" : "UNAVAILABLE",
    `cannot reach the plugin at the address it announced: ${failure.rawMessage}` +
      (tls
        ? ". The AutoMTLS handshake failed; the plugin may not trust the host's certificate."
        : ""),
    { cause: failure },
  );
}
