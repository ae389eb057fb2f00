// The options of a start or an attach, checked once and resolved into the one object every step
// reads: defaults applied, nothing left to validate later, nothing created yet.
import type { Writable } from "node:stream";
import { PluginError } from "../../errors/plugin-error.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import type { Network } from "../../protocol/handshake-line.ts";
import type { Logger } from "../../protocol/hclog.ts";
import type { GrpcFraming } from "../../rpc/h2/framing-option.ts";
import { resolveGrpcFraming } from "../../rpc/h2/framing-option.ts";
import type { DialTarget } from "../../transport/address.ts";
import { checkAddress } from "../../transport/address.ts";
import type { TlsIdentity } from "../../transport/auto-mtls.ts";
import type { AttachOptions, PluginSet, StartOptions } from "../options.ts";
import { checkNonNegative, defaultName } from "../options.ts";
import type { SecureConfig } from "./checksum.ts";
import type { HostEnvPolicy } from "./environment.ts";
import { hostEnvFilter } from "./environment.ts";
import type { PluginSets } from "./plugin-sets.ts";
import { resolvePluginSets } from "./plugin-sets.ts";
import type { ReattachConfig } from "./reattach.ts";
import { where } from "./reattach.ts";

/** Message size limits, passed to every channel. */
export interface MessageLimits {
  readonly maxReceiveMessageBytes: number | undefined;
  readonly maxSendMessageBytes: number | undefined;
}

/** A start's options, resolved (`resolveStart`). */
export interface StartConfig extends MessageLimits {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  readonly handshake: HandshakeConfig;
  /** Application protocol versions offered; never empty. */
  readonly versions: readonly number[];
  /** The plugin set of each version, and the protocols it speaks. */
  readonly sets: PluginSets;
  /** Bounds the whole start: checksum, spawn, handshake and connection check. */
  readonly startTimeoutMs: number;
  readonly secure: SecureConfig | undefined;
  /** The AutoMTLS identity: `"fresh"` for one made for this start, none without AutoMTLS. */
  readonly tls:
    | { readonly t: "none" }
    | { readonly t: "fresh" }
    | { readonly t: "given"; readonly identity: TlsIdentity };
  readonly processGroup: boolean;
  readonly dieWithHost: boolean;
  readonly multiplex: boolean;
  /** Offer the fast wire (never together with multiplexing). */
  readonly offerFastWire: boolean;
  /** The HTTP/2 gRPC runs on, main and brokered connections alike. */
  readonly grpcFraming: GrpcFraming;
  readonly allowRemoteTcp: boolean | undefined;
  readonly network: "unix" | "tcp" | undefined;
  /** The caller's socket directory; undefined: the start makes a private one. */
  readonly unixSocketDir: string | undefined;
  readonly unixSocketGroup: string | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly hostEnv: HostEnvPolicy | undefined;
  readonly skipHostEnv: boolean | undefined;
  readonly logger: Logger | undefined;
  readonly stderr: Writable | undefined;
  readonly logLineBytes: number | undefined;
  readonly syncStdout: Writable | undefined;
  readonly syncStderr: Writable | undefined;
}

/**
 * Checks a start's options (a TypeError or CONFIG_INVALID for a bad one, before anything is
 * created) and resolves their defaults.
 */
export function resolveStart<P extends PluginSet>(options: StartOptions<P>): StartConfig {
  const name = defaultName(options);
  const startTimeoutMs = checkNonNegative(options.startTimeoutMs, "startTimeoutMs", 60_000);
  checkNonNegative(options.killGraceMs, "killGraceMs", 2000);
  hostEnvFilter(options.hostEnv); // a bad allow-list fails here, before anything is created
  const sets = resolvePluginSets({
    ...options,
    name,
    protocolVersion: options.handshake.protocolVersion,
  });
  const versions = sets.versions;
  const multiplex = options.multiplex === true;
  return {
    name,
    cmd: options.cmd,
    args: options.args ?? [],
    cwd: options.cwd,
    handshake: options.handshake,
    versions,
    sets,
    startTimeoutMs,
    secure: options.secure,
    tls:
      options.autoMtls === false
        ? { t: "none" }
        : options.tlsIdentity === undefined
          ? { t: "fresh" }
          : { t: "given", identity: options.tlsIdentity },
    processGroup: options.processGroup ?? true,
    dieWithHost: options.dieWithHost ?? true,
    multiplex,
    offerFastWire: options.fastWire !== false && !multiplex,
    grpcFraming: resolveGrpcFraming(options.grpcFraming),
    allowRemoteTcp: options.allowRemoteTcp,
    network: options.network,
    unixSocketDir: options.unixSocketDir,
    unixSocketGroup: options.unixSocketGroup,
    env: options.env,
    hostEnv: options.hostEnv,
    skipHostEnv: options.skipHostEnv,
    logger: options.logger,
    stderr: options.stderr,
    logLineBytes: options.logLineBytes,
    syncStdout: options.syncStdout,
    syncStderr: options.syncStderr,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  };
}

/** The start deadline's error (the step's abort reason when `startTimeoutMs` runs out). */
export function startTimeout(config: StartConfig): PluginError {
  return new PluginError(
    "HANDSHAKE_TIMEOUT",
    `timeout while waiting for plugin to start (${config.startTimeoutMs} ms)`,
    { plugin: config.name, details: { startTimeoutMs: config.startTimeoutMs } },
  );
}

/** Whether a step's abort reason is the start deadline, not the caller's signal. */
export function isStartTimeout(reason: unknown): reason is PluginError {
  return reason instanceof PluginError && reason.code === "HANDSHAKE_TIMEOUT";
}

/**
 * How long an attach waits for the plugin's address to accept a connection. A plugin on this
 * machine accepts (or refuses) at once; only one that is stopped or swamped makes it wait.
 */
export const defaultAttachTimeoutMs = 10_000;

/** An attach's options, resolved (`resolveAttach`). */
export interface AttachConfig extends MessageLimits {
  readonly name: string;
  readonly reattach: ReattachConfig;
  readonly network: Network;
  readonly address: string;
  /** Where the probe connects: the reattach address, checked. */
  readonly target: DialTarget;
  readonly attachTimeoutMs: number;
  readonly allowRemoteTcp: boolean | undefined;
  readonly grpcFraming: GrpcFraming;
}

/** Checks an attach's options (the address included) and resolves their defaults. */
export function resolveAttach<P extends PluginSet>(options: AttachOptions<P>): AttachConfig {
  const { reattach } = options;
  const name = options.name ?? `plugin-${reattach.pid}`;
  const attachTimeoutMs = checkNonNegative(
    options.attachTimeoutMs,
    "attachTimeoutMs",
    defaultAttachTimeoutMs,
  );
  const { network, address } = reattach.addr;
  let target: DialTarget;
  try {
    target = checkAddress(network, address, options);
  } catch (error) {
    throw PluginError.from(error).withPlugin(name);
  }
  return {
    name,
    reattach,
    network,
    address,
    target,
    attachTimeoutMs,
    allowRemoteTcp: options.allowRemoteTcp,
    grpcFraming: resolveGrpcFraming(options.grpcFraming),
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  };
}

/** The attach deadline's error. */
export function attachTimeout(config: AttachConfig): PluginError {
  return new PluginError(
    "REATTACH_NOT_FOUND",
    `reattachment process not answering: nothing accepted a connection at ${where(config.target)} within ${config.attachTimeoutMs} ms`,
    { plugin: config.name, details: { attachTimeoutMs: config.attachTimeoutMs } },
  );
}
