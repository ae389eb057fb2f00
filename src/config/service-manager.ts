import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { SuperviseOptions } from "../discovery/discovery.ts";
import { PluginRegistry } from "../discovery/registry.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { lockFileFor, readLock } from "../lock/lock-file.ts";
import type { Logger } from "../protocol/hclog.ts";
import type { Client } from "../rpc/core/types.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import type { HostConfig } from "./config.ts";
import { loadConfig } from "./config.ts";
import type { DriverSource, InProcessDriver } from "./drivers.ts";
import {
  driverLauncher,
  driverManifest,
  isInstallable,
  resolveDriver,
  serviceSource,
} from "./drivers.ts";

export interface ServiceManagerOptions {
  /** In-process drivers by name, usable as `driver = "<name>"`. */
  inProcess?: Readonly<Record<string, InProcessDriver>> | undefined;
  /** Discover `[manager] plugin_dirs` too. Default true. */
  discover?: boolean | undefined;
  /** Supervision settings for every plugin. */
  supervise?: SuperviseOptions | undefined;
  /** Progress of long steps (clone, build). */
  onProgress?: ((message: string) => void) | undefined;
  logger?: Logger | undefined;
}

/**
 * The services a config file declares, each backed by its driver (in-process, executable, source
 * folder or git URL) and supervised, plus the plugins discovered in the plugin directories.
 * Host code asks for a service by name and gets the same typed client whatever the driver.
 */
export class ServiceManager implements AsyncDisposable {
  readonly config: HostConfig;
  readonly registry: PluginRegistry;
  readonly sources: ReadonlyMap<string, DriverSource>;

  private constructor(
    config: HostConfig,
    registry: PluginRegistry,
    sources: Map<string, DriverSource>,
  ) {
    this.config = config;
    this.registry = registry;
    this.sources = sources;
  }

  /** Reads `file` and sets up every service (nothing starts until first use, or `startAll`). */
  static async load(file: string, options: ServiceManagerOptions = {}): Promise<ServiceManager> {
    return ServiceManager.create(await loadConfig(file), options);
  }

  static async create(
    config: HostConfig,
    options: ServiceManagerOptions = {},
  ): Promise<ServiceManager> {
    const registry = new PluginRegistry();
    const sources = new Map<string, DriverSource>();
    const inProcess = options.inProcess ?? {};
    const { manager } = config;
    const lockFile = lockFileFor(config.file);
    for (const service of Object.values(config.services)) {
      let source: DriverSource;
      try {
        source = resolveDriver(service.driver, {
          baseDir: dirname(config.file),
          ref: service.ref,
          inProcess: new Set(Object.keys(inProcess)),
        });
      } catch (error) {
        const failure = PluginError.from(error);
        throw new PluginError(
          failure.code,
          `${config.file}:${service.line}: key \`services.${service.name}.driver\`: ${failure.rawMessage}`,
          { cause: failure, details: { file: config.file, line: service.line } },
        );
      }
      sources.set(service.name, source);
      registry.add(
        new ManagedPlugin({
          ...options.supervise,
          id: service.name,
          manifest: driverManifest(service.name, source),
          launch: driverLauncher({
            id: service.name,
            source,
            settings: service.settings,
            inProcess,
            handshake: service.handshake ?? manager.handshake,
            versions: manager.versions,
            cacheDir: manager.cacheDir,
            configDir: dirname(config.file),
            startTimeoutMs: manager.startTimeoutMs,
            allowInstallScripts: service.allowInstallScripts,
            onProgress: options.onProgress,
            process: { logger: options.logger, start: { hostEnv: service.hostEnv } },
            hostVersions: manager.hostVersions,
            lock: isInstallable(source)
              ? {
                  file: lockFile,
                  name: service.name,
                  source: serviceSource(service.driver, service.ref),
                  constraint: service.version,
                }
              : undefined,
          }),
        }),
      );
    }
    if (options.discover !== false && manager.pluginDirs.length > 0) {
      if (manager.handshake === undefined)
        throw new PluginError(
          "CONFIG_INVALID",
          `${config.file}: [manager] plugin_dirs needs [manager.handshake] to start the plugins it finds`,
        );
      await registry.discover({
        paths: manager.pluginDirs,
        handshake: manager.handshake,
        versions: manager.versions,
        startTimeoutMs: manager.startTimeoutMs,
        run: manager.discovery,
        process: { start: { hostEnv: manager.hostEnv } },
        hostVersions: manager.hostVersions,
        lock: existsSync(lockFile) ? { file: lockFile, lock: await readLock(lockFile) } : undefined,
        supervise: options.supervise,
        logger: options.logger,
      });
    }
    return new ServiceManager(config, registry, sources);
  }

  /** The typed client of a configured service, whatever its driver. */
  service<S extends DescService>(name: string, service: S): Client<S> {
    return this.plugin(name).client(service);
  }

  /** The supervised plugin behind a configured service (or a discovered plugin id). */
  plugin(name: string): ManagedPlugin {
    const plugin = this.registry.get(name);
    if (plugin === undefined)
      throw new PluginError(
        "PROVIDER_UNKNOWN",
        `no service or plugin named ${JSON.stringify(name)} in ${this.config.file} (known: ${this.registry
          .list()
          .map((p) => p.id)
          .join(", ")})`,
      );
    return plugin;
  }

  close(): Promise<void> {
    return this.registry.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
