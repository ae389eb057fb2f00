import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import { Env } from "../../protocol/env.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { negotiateVersion } from "../../protocol/negotiate.ts";
import type { ServiceRegistration } from "../../rpc/core/types.ts";
import type { NetRpcPlugins } from "./netrpc-plugins.ts";

/** The gRPC services one protocol version serves. */
export type ServiceList = ReadonlyArray<ServiceRegistration<DescService>>;

/**
 * What one protocol version serves: gRPC services (a list), or net/rpc plugins by name (an
 * object), which makes that version speak go-plugin's net/rpc protocol.
 */
export type VersionSet = ServiceList | NetRpcPlugins;

/** The version chosen, and the protocol its set speaks. */
export type VersionChoice =
  | { readonly protocolVersion: number; readonly protocol: "grpc"; readonly services: ServiceList }
  | {
      readonly protocolVersion: number;
      readonly protocol: "netrpc";
      readonly plugins: NetRpcPlugins;
    };

/**
 * The protocol version to serve: the highest of ours the host lists in PLUGIN_PROTOCOL_VERSIONS
 * (go-plugin's VersionedPlugins), with its set. `versions` wins over `services` and `plugins`,
 * which are served as `handshake.protocolVersion` (default 1); as in go-plugin, the chosen set
 * decides the protocol.
 */
export function chooseVersion(
  options: {
    readonly handshake: HandshakeConfig;
    readonly services?: ServiceList | undefined;
    readonly plugins?: NetRpcPlugins | undefined;
    readonly versions?: Readonly<Record<number, VersionSet>> | undefined;
  },
  env: NodeJS.ProcessEnv,
  logger: Logger,
): VersionChoice {
  if (options.services !== undefined && options.plugins !== undefined) {
    throw new PluginError(
      "CONFIG_INVALID",
      "serve() takes `services` (gRPC) or `plugins` (net/rpc) for one version, not both: serve each in a version of its own (`versions`)",
    );
  }
  const versions = options.versions ?? {
    [options.handshake.protocolVersion ?? 1]: options.plugins ?? options.services ?? [],
  };
  const own = Object.keys(versions).map(Number);
  if (own.length === 0) {
    throw new PluginError(
      "CONFIG_INVALID",
      "serve() needs at least one protocol version with services",
    );
  }
  const protocolVersion = negotiateVersion(own, env[Env.protocolVersions], (entry) =>
    logger.warn(`server sent invalid plugin version "${entry}"`),
  );
  const set = versions[protocolVersion] ?? [];
  return Array.isArray(set)
    ? { protocolVersion, protocol: "grpc", services: set as ServiceList }
    : { protocolVersion, protocol: "netrpc", plugins: set as NetRpcPlugins };
}
