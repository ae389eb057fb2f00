import type { GrpcStatusName } from "./grpc-status.ts";
import { GrpcStatus, grpcStatusName } from "./grpc-status.ts";

/**
 * Stable codes for every failure plugwire reports. Lifecycle codes are plugwire's own; RPC failures
 * carry the gRPC status name. Codes never change meaning once released; see docs/errors.md.
 */
export const ErrorCode = {
  /** The options given to a plugwire function are invalid. */
  CONFIG_INVALID: "CONFIG_INVALID",
  /** The plugin executable could not be started (missing, not executable, ...). */
  SPAWN_FAILED: "SPAWN_FAILED",
  /** The executable's checksum did not match the expected one; it was not started. */
  CHECKSUM_MISMATCH: "CHECKSUM_MISMATCH",
  /** The plugin was started without the right magic cookie (it refused to run). */
  COOKIE_MISMATCH: "COOKIE_MISMATCH",
  /** The plugin's first stdout line is not a valid go-plugin handshake. */
  HANDSHAKE_INVALID: "HANDSHAKE_INVALID",
  /** No handshake line arrived within the start timeout. */
  HANDSHAKE_TIMEOUT: "HANDSHAKE_TIMEOUT",
  /** The plugin speaks another go-plugin core protocol version. */
  CORE_VERSION_MISMATCH: "CORE_VERSION_MISMATCH",
  /** The plugin and host share no application protocol version. */
  PROTOCOL_VERSION_MISMATCH: "PROTOCOL_VERSION_MISMATCH",
  /** The plugin uses a protocol (netrpc) or network this host does not allow. */
  PROTOCOL_UNSUPPORTED: "PROTOCOL_UNSUPPORTED",
  /** Broker multiplexing was requested but the plugin cannot do it. */
  MUX_UNSUPPORTED: "MUX_UNSUPPORTED",
  /** AutoMTLS or TLS setup failed: bad or unsolicited certificate, handshake failure. */
  TLS_FAILED: "TLS_FAILED",
  /**
   * The peer answered a MuxBroker dial (go-plugin's net/rpc protocol) with another stream id than
   * the one dialled: go-plugin's "bad ack". The stream is closed.
   */
  BROKER_ACK_MISMATCH: "BROKER_ACK_MISMATCH",
  /** A unix socket path would exceed the operating system's limit. */
  SOCKET_PATH_TOO_LONG: "SOCKET_PATH_TOO_LONG",
  /** The plugin process exited (before the handshake, or while calls were in flight). */
  PLUGIN_EXITED: "PLUGIN_EXITED",
  /** The plugin client was closed by the host; no further calls are possible. */
  CLIENT_CLOSED: "CLIENT_CLOSED",
  /** A reattach config points at a process or address that is gone. */
  REATTACH_NOT_FOUND: "REATTACH_NOT_FOUND",
  /** The plugin was asked for a service it does not serve. */
  SERVICE_UNKNOWN: "SERVICE_UNKNOWN",
  /** A log line from the plugin could not be mirrored as structured (malformed or too long). */
  LOG_LINE_INVALID: "LOG_LINE_INVALID",
  /** The manager disabled the plugin (crash-loop breaker tripped, or by hand); `enable()` re-arms it. */
  PLUGIN_DISABLED: "PLUGIN_DISABLED",
  /** The plugin is starting or restarting and did not become ready within the call's wait bound. */
  PLUGIN_UNAVAILABLE: "PLUGIN_UNAVAILABLE",
  /** A candidate file or folder is not a plugin (text file, no handshake, no manifest entry). */
  NOT_A_PLUGIN: "NOT_A_PLUGIN",
  /** Building a plugin from its source directory failed (the build's output is in the message). */
  BUILD_FAILED: "BUILD_FAILED",
  /** Fetching a plugin's source (git clone, ref lookup) failed. */
  FETCH_FAILED: "FETCH_FAILED",
  /**
   * A registry, module proxy, git remote or download server could not be reached, or answered
   * with a server error: nothing was fetched. Retry later, or check the registry settings.
   */
  SOURCE_UNAVAILABLE: "SOURCE_UNAVAILABLE",
  /**
   * Fetched bytes do not match the integrity they were published or locked with (npm's
   * `dist.integrity`, Go's go.sum/sumdb hash, an archive's SHA256SUMS line); nothing was installed.
   */
  INTEGRITY_MISMATCH: "INTEGRITY_MISMATCH",
  /** No plugin or provider is registered under the name asked for. */
  PROVIDER_UNKNOWN: "PROVIDER_UNKNOWN",
  /** A .proto file or FileDescriptorSet given to describe a plugin could not be read or compiled. */
  PROTO_INVALID: "PROTO_INVALID",
  /** A .proto file needs compiling but neither `buf` nor `protoc` is installed. */
  PROTO_COMPILER_MISSING: "PROTO_COMPILER_MISSING",
  /** No plugin version satisfies the semver range asked for (the versions seen are in the message). */
  VERSION_UNSATISFIED: "VERSION_UNSATISFIED",
  /** An artifact differs from its lock file entry (another version, commit or hash); it was refused. */
  LOCK_MISMATCH: "LOCK_MISMATCH",
  /** The lock file would change, but it is frozen (`--frozen`, CI). */
  LOCK_FROZEN: "LOCK_FROZEN",
  /**
   * A configured plugin has no installed artifact the lock vouches for (never installed, its
   * source or constraint changed since, or the installed file is gone): run `plugwire install`.
   */
  NOT_INSTALLED: "NOT_INSTALLED",
  /**
   * The plugin's manifest `engines` does not include this host (plugwire's version or the
   * application's, `[manager] host_versions`); it was not started. The ranges are in the message.
   */
  PLUGIN_INCOMPATIBLE: "PLUGIN_INCOMPATIBLE",
  /** The trust policy requires a signature and the artifact has none. */
  SIGNATURE_MISSING: "SIGNATURE_MISSING",
  /** The signature is valid but made by a key the host does not trust. */
  SIGNATURE_UNTRUSTED: "SIGNATURE_UNTRUSTED",
  /** The signature is malformed, for another namespace, or does not match the file (tampered). */
  SIGNATURE_INVALID: "SIGNATURE_INVALID",
  /**
   * A net/rpc method returned an error (Go's `rpc.ServerError`, or the server's own "can't find
   * method" answer): `rawMessage` and `details.error` are Go's text exactly.
   */
  NETRPC_ERROR: "NETRPC_ERROR",
  /**
   * A gob stream (Go's encoding/gob, net/rpc's encoding) is malformed or hostile: bad lengths, an
   * unknown type id, a type definition that does not hold together. The decoder is unusable after.
   */
  GOB_INVALID: "GOB_INVALID",
  /**
   * A value does not fit its declared Go type: a JS value given to the gob encoder, or a wire
   * value or type read with a schema (`details.path` names the field). The stream stays usable.
   */
  GOB_TYPE: "GOB_TYPE",
} as const;

/** A plugwire lifecycle code or a gRPC status name. */
export type PluginErrorCode = keyof typeof ErrorCode | GrpcStatusName;

export interface PluginErrorOptions {
  /** Name of the plugin the error concerns, shown in the message. */
  plugin?: string | undefined;
  cause?: unknown;
  /** For RPC failures: the numeric gRPC status. */
  grpcStatus?: number | undefined;
  /** Extra facts for programs (pid, path, raw handshake line, stderr tail, ...). */
  details?: Readonly<Record<string, unknown>> | undefined;
}

const brand = Symbol.for("plugwire.PluginError");

/**
 * The one error class plugwire throws. `code` is stable and machine-readable; `message` is
 * `[CODE] plugin <name>: <what happened and what to do>`; `rawMessage` is the text alone.
 */
export class PluginError extends Error {
  override name = "PluginError" as const;
  readonly code: PluginErrorCode;
  readonly rawMessage: string;
  readonly plugin: string | undefined;
  /** The gRPC status number; 2 (UNKNOWN) for lifecycle errors that did not come from an RPC. */
  readonly grpcStatus: number;
  readonly details: Readonly<Record<string, unknown>>;
  readonly [brand] = true;

  constructor(code: PluginErrorCode, message: string, options: PluginErrorOptions = {}) {
    const where = options.plugin === undefined ? "" : `plugin ${options.plugin}: `;
    super(`[${code}] ${where}${message}`, { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.plugin = options.plugin;
    this.grpcStatus = options.grpcStatus ?? statusForCode(code);
    this.details = options.details ?? {};
  }

  /** Works across duplicate copies of the package (the brand is a registered symbol). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && brand in value;
  }

  /**
   * An RPC failure from a gRPC status the peer sent; `details.fromPeer` is true on these only
   * (a status plugwire raised itself, for a lost connection or a local deadline, lacks it).
   */
  static fromStatus(status: number, message: string, options: PluginErrorOptions = {}) {
    return new PluginError(grpcStatusName(status), message, {
      ...options,
      grpcStatus: status,
      details: { ...options.details, fromPeer: true },
    });
  }

  /** Converts anything thrown into a PluginError, keeping PluginErrors as they are. */
  static from(reason: unknown, fallback: PluginErrorCode = "UNKNOWN"): PluginError {
    if (reason instanceof PluginError) return reason;
    if (reason instanceof Error)
      return new PluginError(fallback, reason.message, { cause: reason });
    return new PluginError(fallback, String(reason), { cause: reason });
  }

  /** A copy naming the plugin, for errors raised below the layer that knows the name. */
  withPlugin(plugin: string): PluginError {
    if (this.plugin !== undefined) return this;
    return new PluginError(this.code, this.rawMessage, {
      plugin,
      cause: this.cause,
      grpcStatus: this.grpcStatus,
      details: this.details,
    });
  }
}

function statusForCode(code: PluginErrorCode): number {
  if (code in GrpcStatus) return GrpcStatus[code as GrpcStatusName];
  switch (code) {
    case "PLUGIN_EXITED":
    case "CLIENT_CLOSED":
      return GrpcStatus.UNAVAILABLE;
    case "CONFIG_INVALID":
      return GrpcStatus.INVALID_ARGUMENT;
    case "PLUGIN_DISABLED":
    case "PLUGIN_UNAVAILABLE":
      return GrpcStatus.UNAVAILABLE;
    case "PROVIDER_UNKNOWN":
      return GrpcStatus.NOT_FOUND;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
