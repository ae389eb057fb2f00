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
}

/** A handshake with every field checked; `muxSupported` tells whether multiplexing is on. */
export interface ParsedHandshake extends Handshake {
  readonly raw: string;
}

/**
 * Parses the first stdout line as a go-plugin host does (client.go, v1.7+ wording), with stable
 * codes for each failure. `diagnose` supplies go-plugin's "This usually means …" paragraph.
 */
export function parseHandshake(
  rawLine: string,
  options: ParseHandshakeOptions,
  diagnose: () => string = () => "",
): ParsedHandshake {
  const line = rawLine.trim();
  const parts = line.split("|");
  if (parts.length < 4) {
    const shown = line === "" ? "\nFailed to read any lines from plugin's stdout" : line;
    throw new PluginError(
      "HANDSHAKE_INVALID",
      `Unrecognized remote plugin message: ${shown}\n${diagnose()}`.trimEnd(),
      {
        details: { line: rawLine },
      },
    );
  }
  const [coreField, appField, networkField, address, protocolField, certField, muxField] =
    parts as [
      string,
      string,
      string,
      string,
      string | undefined,
      string | undefined,
      string | undefined,
    ];
  const core = parseGoInt(coreField);
  if (core === undefined) {
    throw new PluginError(
      "HANDSHAKE_INVALID",
      `error parsing core protocol version: strconv.Atoi: parsing "${coreField}": invalid syntax`,
      {
        details: { line: rawLine },
      },
    );
  }
  if (core !== coreProtocolVersion) {
    throw new PluginError(
      "CORE_VERSION_MISMATCH",
      `incompatible core API version with plugin. Plugin version: ${coreField}, Core version: ${coreProtocolVersion}\n\n` +
        "To fix this, the plugin usually only needs to be recompiled.\nPlease report this to the plugin author",
      { details: { line: rawLine } },
    );
  }
  const app = parseGoInt(appField);
  if (app === undefined) {
    throw new PluginError(
      "HANDSHAKE_INVALID",
      `Error parsing protocol version "${appField}": strconv.Atoi: parsing "${appField}": invalid syntax`,
      { details: { line: rawLine } },
    );
  }
  if (!options.versions.includes(app)) {
    throw new PluginError(
      "PROTOCOL_VERSION_MISMATCH",
      `incompatible API version with plugin. Plugin version: ${app}, Client versions: [${options.versions.join(" ")}]\n\n` +
        "To fix this, use a plugin built for one of the host's protocol versions.",
      { details: { line: rawLine, pluginVersion: app, hostVersions: options.versions } },
    );
  }
  if (networkField !== "unix" && networkField !== "tcp") {
    throw new PluginError("PROTOCOL_UNSUPPORTED", `unknown address type: ${address}`, {
      details: { line: rawLine },
    });
  }
  if (networkField === "tcp" && !/^(\[[0-9a-fA-F:.]+\]|[^:]*):\d{1,5}$/.test(address)) {
    throw new PluginError("HANDSHAKE_INVALID", `invalid tcp address in handshake: "${address}"`, {
      details: { line: rawLine },
    });
  }
  if (networkField === "unix" && address === "") {
    throw new PluginError("HANDSHAKE_INVALID", "empty unix socket path in handshake", {
      details: { line: rawLine },
    });
  }
  const fastWire = options.fastWire === true && protocolField === fastWireProtocolField;
  const protocol = fastWire ? "grpc" : (protocolField ?? "netrpc");
  if (protocol !== "grpc") {
    throw new PluginError(
      "PROTOCOL_UNSUPPORTED",
      `unsupported plugin protocol "${protocol}". Supported: [grpc]\n\n` +
        "plugwire speaks go-plugin's gRPC protocol only; rebuild the plugin with GRPCServer set.",
      { details: { line: rawLine } },
    );
  }
  // Field 6 is a certificate only when longer than 50 characters: older plugins put a short
  // base64 JSON document there (go-plugin-protocol §2.1).
  const serverCert = certField !== undefined && certField.length > 50 ? certField : "";
  let muxSupported: boolean | undefined;
  if (options.multiplex) {
    if (muxField === undefined) {
      throw new PluginError(
        "MUX_UNSUPPORTED",
        "client requested gRPC broker multiplexing but plugin does not support the feature; for Go plugins, " +
          "you will need to update the github.com/hashicorp/go-plugin dependency and recompile",
      );
    }
    muxSupported = parseGoBool(muxField);
    if (muxSupported === undefined) {
      throw new PluginError(
        "HANDSHAKE_INVALID",
        `error parsing "${muxField}" as a boolean for gRPC broker multiplexing support`,
      );
    }
    if (!muxSupported) {
      throw new PluginError(
        "MUX_UNSUPPORTED",
        "client requested gRPC broker multiplexing but plugin does not support the feature",
      );
    }
  }
  return {
    raw: rawLine,
    protocolVersion: app,
    network: networkField,
    address,
    protocol,
    serverCert,
    muxSupported,
    fastWire,
  };
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
