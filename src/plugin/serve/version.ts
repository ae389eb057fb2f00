import type { DescService } from "@bufbuild/protobuf";
import { PluginError } from "../../errors/plugin-error.ts";
import type { HandshakeConfig } from "../../protocol/env.ts";
import { Env } from "../../protocol/env.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { negotiateVersion } from "../../protocol/negotiate.ts";
import type { ServiceRegistration } from "../../rpc/core/types.ts";

type Services = ReadonlyArray<ServiceRegistration<DescService>>;

export interface VersionChoice {
  readonly protocolVersion: number;
  /** The application services of that version. */
  readonly services: Services;
}

/**
 * The protocol version to serve: the highest of ours the host lists in PLUGIN_PROTOCOL_VERSIONS
 * (go-plugin's VersionedPlugins), with its services. `versions` wins over `services`, which are
 * served as `handshake.protocolVersion` (default 1).
 */
export function chooseVersion(
  options: {
    readonly handshake: HandshakeConfig;
    readonly services?: Services | undefined;
    readonly versions?: Readonly<Record<number, Services>> | undefined;
  },
  env: NodeJS.ProcessEnv,
  logger: Logger,
): VersionChoice {
  const versions = options.versions ?? {
    [options.handshake.protocolVersion ?? 1]: options.services ?? [],
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
  return { protocolVersion, services: versions[protocolVersion] ?? [] };
}
