/** Environment variables of go-plugin's launch protocol (docs/handshake.md). */
export const Env = {
  protocolVersions: "PLUGIN_PROTOCOL_VERSIONS",
  minPort: "PLUGIN_MIN_PORT",
  maxPort: "PLUGIN_MAX_PORT",
  clientCert: "PLUGIN_CLIENT_CERT",
  multiplexGrpc: "PLUGIN_MULTIPLEX_GRPC",
  unixSocketDir: "PLUGIN_UNIX_SOCKET_DIR",
  unixSocketGroup: "PLUGIN_UNIX_SOCKET_GROUP",
  /** plugwire's extension: the host's preferred network (`unix` or `tcp`); go-plugin has none. */
  network: "PLUGWIRE_NETWORK",
  /**
   * plugwire's extension: set to `1` by a plugwire host that speaks the fast wire
   * (docs/fast-wire.md). A plugwire plugin then accepts it in its handshake line; every other
   * plugin ignores it, and a Go host never sets it.
   */
  fastWire: "PLUGWIRE_FAST_WIRE",
} as const;

/** Variables a host must not pass on from its own environment (go-plugin-protocol §14.9). */
export const inheritedPluginVariables: readonly string[] = [
  Env.protocolVersions,
  Env.minPort,
  Env.maxPort,
  Env.clientCert,
  Env.multiplexGrpc,
  Env.unixSocketDir,
  Env.unixSocketGroup,
  Env.network,
  Env.fastWire,
];

/** The core protocol version of go-plugin; the only one that exists. */
export const coreProtocolVersion = 1;

/** What a go-plugin plugin prints to stderr when run without the right magic cookie. */
export const cookieMismatchMessage =
  "This binary is a plugin. These are not meant to be executed directly.\n" +
  "Please execute the program that consumes these plugins, which will\n" +
  "load any plugins automatically\n";

/** The magic cookie that tells a plugin it was launched by a host that expects it. */
export interface HandshakeConfig {
  /** The environment variable the host sets, e.g. `BASIC_PLUGIN`. */
  readonly magicCookieKey: string;
  /** Its value; compared byte for byte. */
  readonly magicCookieValue: string;
  /** The application protocol version when only one is spoken. Default 1. */
  readonly protocolVersion?: number | undefined;
}
