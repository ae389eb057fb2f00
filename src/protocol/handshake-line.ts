import type { PluginErrorCode } from "../errors/plugin-error.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { coreProtocolVersion } from "./env.ts";

export type Network = "unix" | "tcp";
export type WireProtocol = "grpc" | "netrpc";

/** The fields of go-plugin's handshake line `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT[|MUX]`. */
export interface Handshake {
  readonly protocolVersion: number;
  readonly network: Network;
  readonly address: string;
  readonly protocol: WireProtocol;
  /** Unpadded base64 DER of the plugin's AutoMTLS certificate, or "" without AutoMTLS. */
  readonly serverCert: string;
  /** Field 7: present only when the host set PLUGIN_MULTIPLEX_GRPC. */
  readonly muxSupported?: boolean | undefined;
  /**
   * The plugin accepted plugwire's fast wire, offered by the host in PLUGWIRE_FAST_WIRE: field 5
   * reads `grpc+fast/1` (docs/fast-wire.md). Never written unless the host offered it.
   */
  readonly fastWire?: boolean | undefined;
}

/** Field 5 of a plugin that accepted the fast wire; it serves gRPC on the same address too. */
export const fastWireProtocolField = "grpc+fast/1";

/** Formats the line a plugin prints (without the trailing newline). */
export function formatHandshake(h: Handshake): string {
  const protocol = h.fastWire === true ? fastWireProtocolField : h.protocol;
  const line = `${coreProtocolVersion}|${h.protocolVersion}|${h.network}|${h.address}|${protocol}|${h.serverCert}`;
  return h.muxSupported === undefined ? line : `${line}|${h.muxSupported}`;
}

export interface ParseHandshakeOptions {
  /** Application protocol versions the host accepts. */
  readonly versions: readonly number[];
  /** Whether the host asked for broker multiplexing. */
  readonly multiplex: boolean;
  /** Whether the host offered the fast wire (only then is `grpc+fast/1` accepted). */
  readonly fastWire?: boolean | undefined;
  /**
   * The protocols the host speaks for a version (go-plugin's AllowedProtocols, narrowed to what
   * the plugin set of that version can dispense). Default: gRPC only.
   */
  readonly protocols?: ((version: number) => readonly WireProtocol[]) | undefined;
}

/** A handshake with every field checked; `muxSupported` tells whether multiplexing is on. */
export interface ParsedHandshake extends Handshake {
  readonly raw: string;
}

/**
 * Parses the first stdout line as a go-plugin host does (client.go, v1.7+ wording), with stable
 * codes for each failure. `diagnose` supplies go-plugin's "This usually means …" paragraph.
 * The fields are checked in go-plugin's order, so a line with several faults reports the same one.
 */
export function parseHandshake(
  rawLine: string,
  options: ParseHandshakeOptions,
  diagnose: () => string = () => "",
): ParsedHandshake {
  const fields = splitFields(rawLine, diagnose);
  checkCoreVersion(fields.core, rawLine);
  const protocolVersion = parseAppVersion(fields.app, options.versions, rawLine);
  const network = parseNetwork(fields.network, fields.address, rawLine);
  const { protocol, fastWire } = parseProtocol(fields.protocol, protocolVersion, options, rawLine);
  const serverCert = parseCertField(fields.cert);
  // As go-plugin: multiplexing concerns the gRPC protocol only; a net/rpc plugin's field 7 is ignored.
  const muxSupported = parseMuxField(fields.mux, options.multiplex && protocol === "grpc");
  return {
    raw: rawLine,
    protocolVersion,
    network,
    address: fields.address,
    protocol,
    serverCert,
    muxSupported,
    fastWire,
  };
}

/** The line's fields by name; the last three are absent on shorter (older) lines. */
interface HandshakeFields {
  readonly core: string;
  readonly app: string;
  readonly network: string;
  readonly address: string;
  readonly protocol: string | undefined;
  readonly cert: string | undefined;
  readonly mux: string | undefined;
}

/** A failure that carries the line as go-plugin read it, for the logs. */
function lineError(
  code: PluginErrorCode,
  message: string,
  rawLine: string,
  details: Readonly<Record<string, unknown>> = {},
): PluginError {
  return new PluginError(code, message, { details: { line: rawLine, ...details } });
}

/** Fields 1–4 are required: fewer means the plugin printed something other than a handshake. */
function splitFields(rawLine: string, diagnose: () => string): HandshakeFields {
  const line = rawLine.trim();
  // go-plugin reads seven fields at most; splitting no further keeps a line of millions of
  // separators as cheap as any other (what it would split beyond is never read).
  const parts = line.split("|", 7);
  if (parts.length < 4) {
    const shown = line === "" ? "\nFailed to read any lines from plugin's stdout" : line;
    throw lineError(
      "HANDSHAKE_INVALID",
      `Unrecognized remote plugin message: ${shown}\n${diagnose()}`.trimEnd(),
      rawLine,
    );
  }
  const [core, app, network, address, protocol, cert, mux] = parts;
  return { core: core!, app: app!, network: network!, address: address!, protocol, cert, mux };
}

/** Field 1: go-plugin's own protocol version, which must equal ours. */
function checkCoreVersion(field: string, rawLine: string): void {
  const core = parseGoInt(field);
  if (core === undefined) {
    throw lineError(
      "HANDSHAKE_INVALID",
      `error parsing core protocol version: strconv.Atoi: parsing "${field}": invalid syntax`,
      rawLine,
    );
  }
  if (core !== coreProtocolVersion) {
    throw lineError(
      "CORE_VERSION_MISMATCH",
      `incompatible core API version with plugin. Plugin version: ${field}, Core version: ${coreProtocolVersion}\n\n` +
        "To fix this, the plugin usually only needs to be recompiled.\nPlease report this to the plugin author",
      rawLine,
    );
  }
}

/** Field 2: the application protocol version, one of those the host accepts. */
function parseAppVersion(field: string, versions: readonly number[], rawLine: string): number {
  const app = parseGoInt(field);
  if (app === undefined) {
    throw lineError(
      "HANDSHAKE_INVALID",
      `Error parsing protocol version "${field}": strconv.Atoi: parsing "${field}": invalid syntax`,
      rawLine,
    );
  }
  if (!versions.includes(app)) {
    throw lineError(
      "PROTOCOL_VERSION_MISMATCH",
      `incompatible API version with plugin. Plugin version: ${app}, Client versions: [${versions.join(" ")}]\n\n` +
        "To fix this, use a plugin built for one of the host's protocol versions.",
      rawLine,
      { pluginVersion: app, hostVersions: versions },
    );
  }
  return app;
}

/** Fields 3 and 4: the network and an address of its shape (host:port, or a non-empty path). */
function parseNetwork(field: string, address: string, rawLine: string): Network {
  if (field !== "unix" && field !== "tcp") {
    // go-plugin's wording names the address, not the network.
    throw lineError("PROTOCOL_UNSUPPORTED", `unknown address type: ${address}`, rawLine);
  }
  if (field === "tcp" && !/^(\[[0-9a-fA-F:.]+\]|[^:]*):\d{1,5}$/.test(address)) {
    throw lineError("HANDSHAKE_INVALID", `invalid tcp address in handshake: "${address}"`, rawLine);
  }
  if (field === "unix" && address === "") {
    throw lineError("HANDSHAKE_INVALID", "empty unix socket path in handshake", rawLine);
  }
  return field;
}

/**
 * Field 5: `grpc` or `netrpc` (netrpc when absent, as go-plugin reads it), or the fast wire if
 * offered; it must be one the host speaks for the negotiated version.
 */
function parseProtocol(
  field: string | undefined,
  version: number,
  options: ParseHandshakeOptions,
  rawLine: string,
): { protocol: WireProtocol; fastWire: boolean } {
  const fastWire = options.fastWire === true && field === fastWireProtocolField;
  const protocol = fastWire ? "grpc" : (field ?? "netrpc");
  const allowed = options.protocols?.(version) ?? ["grpc"];
  if (!(allowed as readonly string[]).includes(protocol)) {
    throw lineError(
      "PROTOCOL_UNSUPPORTED",
      `unsupported plugin protocol "${protocol}". Supported: [${allowed.join(" ")}]\n\n` +
        protocolHint(protocol, version, allowed),
      rawLine,
      { protocol, pluginVersion: version, allowedProtocols: allowed },
    );
  }
  return { protocol: protocol as WireProtocol, fastWire };
}

/** What to do when the plugin speaks a protocol the host's plugins for its version do not. */
function protocolHint(protocol: string, version: number, allowed: readonly string[]): string {
  if (protocol === "netrpc" && allowed.includes("grpc")) {
    return (
      `The plugin serves version ${version} over go-plugin's net/rpc protocol, but the host's plugins ` +
      "for that version are gRPC services: declare them as net/rpc interfaces (netrpc.define) to load it, " +
      "or rebuild the plugin with GRPCServer set."
    );
  }
  if (protocol === "grpc" && allowed.includes("netrpc")) {
    return (
      `The plugin serves version ${version} over gRPC, but the host's plugins for that version are ` +
      "net/rpc interfaces: declare them as gRPC services to load it."
    );
  }
  return "Use a plugin built for this host, or allow its protocol (allowedProtocols).";
}

/**
 * Field 6 is a certificate only when longer than 50 characters: older plugins put a short
 * base64 JSON document there (go-plugin-protocol §2.1).
 */
function parseCertField(field: string | undefined): string {
  return field !== undefined && field.length > 50 ? field : "";
}

/**
 * Field 7, read only when the host asked for broker multiplexing: the plugin must answer true.
 * These errors carry no line, as go-plugin's do not.
 */
function parseMuxField(field: string | undefined, multiplex: boolean): boolean | undefined {
  if (!multiplex) return undefined;
  if (field === undefined) {
    throw new PluginError(
      "MUX_UNSUPPORTED",
      "client requested gRPC broker multiplexing but plugin does not support the feature; for Go plugins, " +
        "you will need to update the github.com/hashicorp/go-plugin dependency and recompile",
    );
  }
  const muxSupported = parseGoBool(field);
  if (muxSupported === undefined) {
    throw new PluginError(
      "HANDSHAKE_INVALID",
      `error parsing "${field}" as a boolean for gRPC broker multiplexing support`,
    );
  }
  if (!muxSupported) {
    throw new PluginError(
      "MUX_UNSUPPORTED",
      "client requested gRPC broker multiplexing but plugin does not support the feature",
    );
  }
  return muxSupported;
}

/** Go's strconv.Atoi: optional sign, decimal digits, nothing else. */
export function parseGoInt(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}
