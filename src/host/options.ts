import { basename } from "node:path";
import type { Writable } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { Network, WireProtocol } from "../protocol/handshake-line.ts";
import type { Logger } from "../protocol/hclog.ts";
import type { Client } from "../rpc/core/types.ts";
import type { GrpcFraming } from "../rpc/h2/framing-option.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import type { TlsIdentity } from "../transport/auto-mtls.ts";

/** The expected digest of a plugin executable (go-plugin's SecureConfig). */
export interface SecureConfig {
  /** Hex digest. */
  readonly checksum: string;
  /** A `node:crypto` hash name. Default `sha256`. */
  readonly hash?: string | undefined;
}

/**
 * Which of the host's own environment variables a plugin receives: `"all"` (go-plugin's
 * behaviour, the default), `"none"`, or an allow-list of names and `PREFIX_*` patterns
 * (`["PATH", "HOME", "LANG", "AWS_*"]`). Names are case-sensitive; `*` is allowed only at the end.
 */
export type HostEnvPolicy = "all" | "none" | readonly string[];

/** Where a running plugin can be reached (go-plugin's ReattachConfig). */
export interface ReattachConfig {
  /** go-plugin's protocol of the plugin: `grpc`, or `netrpc` (go-plugin's default when absent). */
  readonly protocol: WireProtocol;
  readonly protocolVersion: number;
  readonly addr: { readonly network: Network; readonly address: string };
  readonly pid: number;
  /** A plugin in debug/test mode: the host never stops it. */
  readonly test: boolean;
}

/**
 * One plugin a host dispenses: a gRPC service descriptor (the name stays on the host), or a Go
 * interface declared with `netrpc.define` (go-plugin's net/rpc protocol: the name is sent to the
 * plugin's Dispenser).
 */
export type PluginEntry = DescService | NetRpcInterface;

/**
 * Named plugins a host dispenses, like go-plugin's PluginSet. All entries of a set speak one
 * protocol: gRPC services or net/rpc interfaces.
 */
export type PluginSet = Readonly<Record<string, PluginEntry>>;

/** Plugin sets by application protocol version (go-plugin's VersionedPlugins). */
export type VersionedPlugins = Readonly<Record<number, PluginSet>>;

/** The names a client of plugin set(s) `P` dispenses (every set's, when `P` is a union). */
export type PluginName<P> = P extends unknown ? keyof P & string : never;

/** The entry named `K` in plugin set(s) `P`. */
export type PluginEntryOf<P, K> = P extends unknown ? (K extends keyof P ? P[K] : never) : never;

/** What `dispense` returns for an entry: a gRPC client, or a net/rpc interface's typed client. */
export type Dispensed<E> = E extends DescService
  ? Client<E>
  : E extends NetRpcInterface
    ? NetRpcClientOf<E>
    : never;

/**
 * The plugin sets a client may have dispensed from: `plugins`, or with `versionedPlugins` the
 * set of whichever version the plugin chose (plus `plugins`, when given, for the handshake's
 * version), so `dispense` offers every name of every version.
 */
export type ClientSets<P extends PluginSet, V extends VersionedPlugins> = [
  Extract<V[keyof V], PluginSet>,
] extends [never]
  ? P
  : Extract<V[keyof V], PluginSet> | (string extends keyof P ? never : P);

/** Options shared by launching and reattaching. */
export interface CommonOptions<
  P extends PluginSet,
  V extends VersionedPlugins = Record<never, never>,
> {
  /** Name in logs and errors. Default: the executable's base name. */
  name?: string | undefined;
  /** The plugins to dispense by name: gRPC services, or net/rpc interfaces (`netrpc.define`). */
  plugins?: P | undefined;
  /**
   * Plugin sets by protocol version (go-plugin's VersionedPlugins): every version is offered,
   * and the plugin's choice decides which set `dispense` serves and which protocol is spoken
   * (a set of gRPC services or of net/rpc interfaces). `plugins`, when given too, is the set of
   * `handshake.protocolVersion` unless that version has one here.
   */
  versionedPlugins?: V | undefined;
  /** Receives mirrored plugin logs (named after the plugin) and plugwire's own. Default: none. */
  logger?: Logger | undefined;
  /** Largest message accepted from the plugin. Default 256 MiB. */
  maxReceiveMessageBytes?: number | undefined;
  /** Largest message sent to the plugin. Default 256 MiB. */
  maxSendMessageBytes?: number | undefined;
  /** Wait after Shutdown for the plugin to exit before SIGKILL. Default 2000 (go-plugin's). */
  killGraceMs?: number | undefined;
  /** Stop the plugin when the host exits, by signal included. Default true. */
  managed?: boolean | undefined;
  /**
   * Dial a TCP address that is not on this machine when a plugin announces one. Default false:
   * a plugin runs beside its host, so anything but a loopback address fails the start with
   * HANDSHAKE_INVALID before any connection is attempted.
   */
  allowRemoteTcp?: boolean | undefined;
  /**
   * The HTTP/2 that gRPC runs on, for the main connection and brokered ones: `"h2"`, plugwire's
   * own framing (2–4× node:http2's calls a second; docs/transport.md), or `"node-http2"`,
   * Node's. Either speaks to every gRPC server. Default: PLUGWIRE_GRPC_FRAMING, else `"h2"`.
   */
  grpcFraming?: GrpcFraming | undefined;
}

/** Options for launching a plugin executable. */
export interface StartOptions<
  P extends PluginSet,
  V extends VersionedPlugins = Record<never, never>,
> extends CommonOptions<P, V> {
  /** The executable. */
  cmd: string;
  args?: readonly string[] | undefined;
  cwd?: string | undefined;
  /** Extra environment for the plugin; wins over the host's own. */
  env?: Readonly<Record<string, string>> | undefined;
  /** Do not pass the host's environment on. Default false. */
  skipHostEnv?: boolean | undefined;
  handshake: HandshakeConfig;
  /**
   * Application protocol versions offered, all served by `plugins`. Default
   * `[handshake.protocolVersion ?? 1]`; with `versionedPlugins`, its versions (not both).
   */
  versions?: readonly number[] | undefined;
  /**
   * The protocols the host accepts (go-plugin's AllowedProtocols). Default both; a version's
   * plugin set narrows it further: a plugin announcing a protocol its set cannot speak fails the
   * start with PROTOCOL_UNSUPPORTED.
   */
  allowedProtocols?: readonly WireProtocol[] | undefined;
  /** AutoMTLS: fresh certificates per start, mutual verification. Default true. */
  autoMtls?: boolean | undefined;
  /**
   * go-plugin's multiplexed broker (PLUGIN_MULTIPLEX_GRPC): one connection to the plugin carries
   * every gRPC connection, brokered ones included, as yamux streams. Default false.
   */
  multiplex?: boolean | undefined;
  /**
   * Offer plugwire's fast wire (docs/fast-wire.md): a plugwire plugin that accepts it is called
   * over plain frames instead of HTTP/2, same calls, same errors, 2–5× cheaper per call. Go,
   * Python and other go-plugin plugins ignore the offer and get gRPC. Not combined with
   * `multiplex`. Default true; false forces gRPC (e.g. to capture traffic with gRPC tools).
   */
  fastWire?: boolean | undefined;
  /** Preferred network, sent as PLUGWIRE_NETWORK (Go plugins always use unix). */
  network?: "unix" | "tcp" | undefined;
  /** PLUGIN_UNIX_SOCKET_DIR for the plugin's sockets. */
  unixSocketDir?: string | undefined;
  /** PLUGIN_UNIX_SOCKET_GROUP: group of the plugin's sockets. */
  unixSocketGroup?: string | undefined;
  /** Handshake deadline. Default 60000 (go-plugin's StartTimeout). */
  startTimeoutMs?: number | undefined;
  /** Verify the executable's digest before starting it. */
  secure?: SecureConfig | undefined;
  /** Raw copy of the plugin's stderr. */
  stderr?: Writable | undefined;
  /** Where the plugin's stdout, synced through GRPCStdio, goes. Default: discarded. */
  syncStdout?: Writable | undefined;
  /** Where the plugin's stderr output (not its logs), synced through GRPCStdio, goes. Default: discarded. */
  syncStderr?: Writable | undefined;
  /** Longest stderr line parsed as a log entry. Default 65536. */
  logLineBytes?: number | undefined;
  /**
   * On Linux, have the kernel SIGKILL the plugin if the host dies, however it dies
   * (PR_SET_PDEATHSIG, set through util-linux `setpriv`), so even plugins that do not watch their
   * parent (Go plugins) never outlive the host. Default true where `setpriv` exists.
   */
  dieWithHost?: boolean | undefined;
  /**
   * The AutoMTLS identity to present. Default: a fresh one per start, as go-plugin does; a host
   * starting many plugins may share one (the private key never leaves the process either way).
   */
  tlsIdentity?: TlsIdentity | undefined;
  /** Put the plugin in its own process group so kill reaches its children. Default true. */
  processGroup?: boolean | undefined;
  /** Cancels the start. */
  signal?: AbortSignal | undefined;
  /**
   * Which of the host's environment variables the plugin receives: `"all"` (default, as
   * go-plugin), `"none"`, or an allow-list of names and `PREFIX_*` patterns, e.g.
   * `["PATH", "HOME", "AWS_*"]` (docs/security.md). `env` and the protocol's variables are set
   * either way. `skipHostEnv: true` is the same as `"none"`.
   */
  hostEnv?: HostEnvPolicy | undefined;
}

/** Options for attaching to a plugin that is already running. */
export interface AttachOptions<
  P extends PluginSet,
  V extends VersionedPlugins = Record<never, never>,
> extends CommonOptions<P, V> {
  reattach: ReattachConfig;
  /**
   * How long the plugin's address may take to accept the attach's first connection (a stopped or
   * swamped plugin never does): REATTACH_NOT_FOUND after it. Default 10000.
   */
  attachTimeoutMs?: number | undefined;
  /** Cancels the attach (CANCELLED). */
  signal?: AbortSignal | undefined;
}

export function checkNonNegative(
  value: number | undefined,
  what: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `Expected the \`${what}\` option to be a non-negative number, got \`${value}\` (${typeof value})`,
    );
  }
  return value;
}

/** A plugin's name in logs and errors: `name`, or the executable's base name. */
export function defaultName(options: { name?: string | undefined; cmd: string }): string {
  return options.name ?? basename(options.cmd);
}
