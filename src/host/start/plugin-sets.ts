// The host's plugin sets by protocol version (go-plugin's Plugins + VersionedPlugins), resolved
// once: which versions to offer, which set each version dispenses, and which protocols that set
// can speak (go-plugin's AllowedProtocols, narrowed by what the set is made of).
import { PluginError } from "../../errors/plugin-error.ts";
import type { WireProtocol } from "../../protocol/handshake-line.ts";
import type { PluginEntry, PluginSet, VersionedPlugins } from "../options.ts";

/** The resolved sets. */
export interface PluginSets {
  /** Versions offered in PLUGIN_PROTOCOL_VERSIONS; never empty. */
  readonly versions: readonly number[];
  /** The set dispensed when `version` is agreed on (undefined: the host gave none). */
  setFor(version: number): PluginSet | undefined;
  /** The protocols the host speaks for `version`. */
  protocolsFor(version: number): readonly WireProtocol[];
}

export interface PluginSetOptions {
  readonly name: string;
  readonly plugins?: PluginSet | undefined;
  readonly versionedPlugins?: VersionedPlugins | undefined;
  /** Offered versions when there are no `versionedPlugins` (the `versions` option). */
  readonly versions?: readonly number[] | undefined;
  readonly protocolVersion?: number | undefined;
  readonly allowedProtocols?: readonly WireProtocol[] | undefined;
}

const bothProtocols: readonly WireProtocol[] = ["grpc", "netrpc"];

/**
 * Resolves the sets as go-plugin does: `versionedPlugins`' versions, plus the handshake's
 * version for `plugins` when that version has no set of its own. CONFIG_INVALID for a set that
 * mixes gRPC services and net/rpc interfaces, for `versions` beside `versionedPlugins`, and for
 * no version at all.
 */
export function resolvePluginSets(options: PluginSetOptions): PluginSets {
  const { name, plugins, versionedPlugins } = options;
  const legacyVersion = options.protocolVersion ?? 1;
  const allowed = checkAllowed(options.allowedProtocols, name);
  let sets: ReadonlyMap<number, PluginSet | undefined>;
  if (versionedPlugins === undefined) {
    const versions = options.versions ?? [legacyVersion];
    sets = new Map(versions.map((v) => [v, plugins]));
  } else {
    if (options.versions !== undefined) {
      throw new PluginError(
        "CONFIG_INVALID",
        "`versions` and `versionedPlugins` both list the versions to offer: give only `versionedPlugins`",
        { plugin: name },
      );
    }
    const map = new Map<number, PluginSet | undefined>();
    for (const [key, set] of Object.entries(versionedPlugins))
      map.set(checkVersion(key, name), set);
    if (plugins !== undefined && !map.has(legacyVersion)) map.set(legacyVersion, plugins);
    sets = map;
  }
  if (sets.size === 0) {
    throw new PluginError("CONFIG_INVALID", "versions must list at least one protocol version", {
      plugin: name,
    });
  }
  const protocols = new Map<number, readonly WireProtocol[]>();
  for (const [version, set] of sets) {
    const speaks = setProtocol(set, version, name);
    protocols.set(version, speaks === undefined ? allowed : allowed.filter((p) => p === speaks));
  }
  return {
    versions: [...sets.keys()],
    setFor: (version) => sets.get(version),
    protocolsFor: (version) => protocols.get(version) ?? [],
  };
}

/** Whether an entry is a gRPC service descriptor (protobuf-es) rather than a net/rpc interface. */
export function isGrpcEntry(
  entry: PluginEntry,
): entry is Extract<PluginEntry, { kind: "service" }> {
  return entry.kind === "service";
}

/** The one protocol a set speaks; undefined for an empty set (it speaks whatever is allowed). */
function setProtocol(
  set: PluginSet | undefined,
  version: number,
  name: string,
): WireProtocol | undefined {
  let speaks: WireProtocol | undefined;
  for (const [entryName, entry] of Object.entries(set ?? {})) {
    const kind: WireProtocol = isGrpcEntry(entry) ? "grpc" : "netrpc";
    if (speaks !== undefined && speaks !== kind) {
      throw new PluginError(
        "CONFIG_INVALID",
        `the plugins of version ${version} mix gRPC services and net/rpc interfaces (${entryName} is ${kind === "grpc" ? "a gRPC service" : "a net/rpc interface"}): ` +
          "go-plugin serves one protocol per version; put each kind in a version of its own (versionedPlugins)",
        { plugin: name },
      );
    }
    speaks = kind;
  }
  return speaks;
}

function checkAllowed(
  allowed: readonly WireProtocol[] | undefined,
  name: string,
): readonly WireProtocol[] {
  if (allowed === undefined) return bothProtocols;
  for (const protocol of allowed) {
    if (!bothProtocols.includes(protocol)) {
      throw new PluginError(
        "CONFIG_INVALID",
        `allowedProtocols lists ${JSON.stringify(protocol)}; go-plugin's protocols are "grpc" and "netrpc"`,
        { plugin: name },
      );
    }
  }
  return allowed;
}

function checkVersion(key: string, name: string): number {
  const version = Number(key);
  if (!Number.isSafeInteger(version)) {
    throw new PluginError(
      "CONFIG_INVALID",
      `versionedPlugins key ${JSON.stringify(key)} is not an integer protocol version`,
      { plugin: name },
    );
  }
  return version;
}
