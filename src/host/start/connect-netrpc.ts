// The connect and check steps for a plugin on go-plugin's net/rpc protocol: one connection (TLS
// around it under AutoMTLS, as go-plugin wraps the raw connection), one yamux session, and
// Control.Ping as the connection check.
import { PluginError } from "../../errors/plugin-error.ts";
import { settlesWithin } from "../../internal/settle.ts";
import type { Step } from "../../internal/step.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { ClientTls } from "../../transport/dial.ts";
import { dialer } from "../../transport/dial.ts";
import { NetRpcConnection } from "../client/netrpc-connection.ts";
import { unreachable } from "./check.ts";
import type { MessageLimits } from "./config.ts";
import { isStartTimeout } from "./config.ts";

export interface NetRpcTarget extends MessageLimits {
  readonly name: string;
  readonly network: Network;
  readonly address: string;
  readonly tls: ClientTls | undefined;
  readonly allowRemoteTcp: boolean | undefined;
  readonly logger?: Logger | undefined;
  readonly syncStdout?: NodeJS.WritableStream | undefined;
  readonly syncStderr?: NodeJS.WritableStream | undefined;
}

/**
 * Dials the plugin and opens go-plugin's three streams at once (a Go plugin accepts them before
 * anything else). The address is checked first (HANDSHAKE_INVALID for one the host must not dial).
 */
export function connectNetRpc(target: NetRpcTarget): NetRpcConnection {
  const socket = dialer(target)();
  return new NetRpcConnection({
    name: target.name,
    socket,
    logger: target.logger,
    syncStdout: target.syncStdout,
    syncStderr: target.syncStderr,
    maxMessageBytes: target.maxReceiveMessageBytes,
  });
}

/** How long a plugin that fails the check may take to show it simply exited. */
const exitGraceMs = 200;

/**
 * `Control.Ping` within the step proves the connection, TLS and the plugin's net/rpc server. A
 * plugin that exits right after its handshake is not a failed check: the client reports the exit.
 * The step's signal ends the check: the start deadline as HANDSHAKE_TIMEOUT, an abort as CANCELLED.
 */
export async function netRpcConnectionCheck(
  connection: NetRpcConnection,
  tls: boolean,
  exited: Promise<unknown>,
  step: Step,
): Promise<void> {
  try {
    await connection.ping({ signal: step.signal });
  } catch (error) {
    if (step.signal.aborted) throw stopped(step.signal.reason, error);
    if (await settlesWithin(exited, exitGraceMs)) return;
    throw checkFailure(PluginError.from(error), tls);
  }
}

function checkFailure(failure: PluginError, tls: boolean): PluginError {
  if (failure.details.fromPeer === true || failure.code === "NETRPC_ERROR") {
    return new PluginError(
      "UNAVAILABLE",
      `the plugin answered the connection check (Control.Ping) with an error: ${failure.rawMessage}. ` +
        "It speaks net/rpc, but not go-plugin's control service.",
      { cause: failure },
    );
  }
  if (failure.code === "GOB_INVALID" || failure.code === "GOB_TYPE") {
    return new PluginError(
      "UNAVAILABLE",
      `the plugin did not answer the connection check (Control.Ping) with net/rpc: ${failure.rawMessage}. ` +
        "Something listens at the address it announced, but it is not a go-plugin net/rpc server.",
      { cause: failure },
    );
  }
  return unreachable(failure, tls);
}

function stopped(reason: unknown, failure: unknown): PluginError {
  if (isStartTimeout(reason)) {
    return new PluginError(
      "HANDSHAKE_TIMEOUT",
      `${reason.rawMessage}: the plugin printed its handshake but did not answer the connection check (Control.Ping) in time`,
      { cause: failure, details: reason.details },
    );
  }
  return new PluginError("CANCELLED", "start was cancelled during the connection check", {
    cause: reason,
  });
}
