// The handshake step: the plugin's first stdout line (go-plugin client.go Start), parsed against
// what the host offered, and the TLS settings it implies (AutoMTLS).
import { PluginError } from "../../errors/plugin-error.ts";
import type { Step } from "../../internal/step.ts";
import { cookieMismatchMessage } from "../../protocol/env.ts";
import type { ParsedHandshake } from "../../protocol/handshake-line.ts";
import { parseHandshake } from "../../protocol/handshake-line.ts";
import type { TlsIdentity } from "../../transport/auto-mtls.ts";
import { certPemFromHandshake } from "../../transport/auto-mtls.ts";
import type { ClientTls } from "../../transport/dial.ts";
import type { StartConfig } from "./config.ts";
import { isStartTimeout } from "./config.ts";
import { diagnose } from "./diagnose.ts";
import { withTail } from "./failure.ts";
import type { Started } from "./spawn.ts";

/** A plugin's handshake, checked, and how to secure the connection to it. */
export interface Negotiated {
  readonly handshake: ParsedHandshake;
  /** AutoMTLS: our identity and the plugin's certificate; undefined for plain text. */
  readonly tls: ClientTls | undefined;
}

/**
 * Reads and checks the handshake. A line that is not a valid answer to what the host offered is
 * HANDSHAKE_INVALID (or the more precise code the parser gives: a version or protocol mismatch,
 * TLS_FAILED for the certificate field).
 */
export async function handshakeStep(
  started: Started,
  config: StartConfig,
  step: Step,
): Promise<Negotiated> {
  const line = await readHandshakeLine(started, config, step);
  try {
    const handshake = parseHandshake(
      line,
      {
        versions: config.versions,
        multiplex: config.multiplex,
        fastWire: config.offerFastWire,
        protocols: config.sets.protocolsFor,
      },
      () => diagnose(config.cmd),
    );
    return { handshake, tls: tlsFor(handshake, started.identity) };
  } catch (error) {
    throw PluginError.from(error, "HANDSHAKE_INVALID");
  }
}

const maxLineBytes = 64 * 1024;

/**
 * Waits for the first stdout line, the process's exit or the step's signal (the start deadline,
 * or the caller's abort), whichever comes first. After the line, stdout keeps being drained and
 * discarded, as go-plugin does.
 */
export function readHandshakeLine(
  started: Started,
  config: StartConfig,
  step: Step,
): Promise<string> {
  const stdout = started.child.stdout!;
  const { signal } = step;
  return new Promise<string>((resolve, reject) => {
    let buffered = "";
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      stdout.off("data", onData);
      stdout.resume(); // keep draining so the plugin never blocks on a full pipe
      outcome();
    };
    const onData = (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline >= 0) finish(() => resolve(buffered.slice(0, newline).replace(/\r$/, "")));
      else if (buffered.length > maxLineBytes) finish(() => resolve(buffered));
    };
    const onAbort = () => finish(() => reject(stopped(config, signal.reason)));
    stdout.setEncoding("utf8");
    stdout.on("data", onData);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    stdout.once("end", () => {
      // No line at all: wait for the exit (bounded by the step) to tell why.
      void started.exited.then(async () => {
        await started.stderrDone;
        finish(() => reject(exitedBeforeHandshake(started, config.name, buffered)));
      });
    });
  });
}

/** Why the wait for the handshake ended early: the start deadline, or the caller's abort. */
function stopped(config: StartConfig, reason: unknown): PluginError {
  if (isStartTimeout(reason)) {
    return new PluginError(
      "HANDSHAKE_TIMEOUT",
      `${reason.rawMessage}. The plugin printed no handshake line; ` +
        "check that it calls serve() (or plugin.Serve) and does not block before it.",
      { plugin: config.name, details: reason.details },
    );
  }
  return new PluginError("CANCELLED", "start was cancelled before the plugin's handshake", {
    plugin: config.name,
    cause: reason,
  });
}

function exitedBeforeHandshake(started: Started, name: string, partial: string): PluginError {
  const tail = started.tail.text();
  const { exitCode, signalCode } = started.child;
  const how = signalCode !== null ? `killed by ${signalCode}` : `exit status ${exitCode}`;
  if (tail.includes(cookieMismatchMessage.split("\n")[0]!)) {
    return new PluginError(
      "COOKIE_MISMATCH",
      `the plugin refused to start (${how}): it did not receive the magic cookie it expects. ` +
        "The host's handshake config (magicCookieKey/magicCookieValue) does not match the plugin's; use the plugin built for this host.",
      { plugin: name, details: { stderr: tail, exitCode, signal: signalCode } },
    );
  }
  const partialNote =
    partial === "" ? "" : ` It printed ${JSON.stringify(partial)} without a newline.`;
  return withTail(
    new PluginError(
      "PLUGIN_EXITED",
      `plugin exited before we could connect (${how}).${partialNote} See its stderr for why.`,
      { plugin: name, details: { exitCode, signal: signalCode } },
    ),
    started.tail,
  );
}

function tlsFor(handshake: ParsedHandshake, identity: TlsIdentity | undefined) {
  if (identity === undefined) {
    if (handshake.serverCert !== "") {
      throw new PluginError(
        "TLS_FAILED",
        "the plugin sent a certificate although the host did not ask for AutoMTLS (a Go host would crash here). " +
          "Its environment probably carries a stale PLUGIN_CLIENT_CERT; start it with autoMtls enabled or fix the plugin.",
      );
    }
    return undefined;
  }
  if (handshake.serverCert === "") {
    throw new PluginError(
      "TLS_FAILED",
      "the host asked for AutoMTLS but the plugin returned no certificate in its handshake. " +
        "The plugin does not support AutoMTLS; start it with autoMtls: false.",
    );
  }
  return { identity, peerCertPem: certPemFromHandshake(handshake.serverCert) };
}
