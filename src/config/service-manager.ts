import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { SuperviseOptions } from "../discovery/discovery.ts";
import { PluginRegistry } from "../discovery/registry.ts";
import { PluginError } from "../errors/plugin-error.ts";
import { lockFileFor, readLock } from "../lock/lock-file.ts";
import type { Logger } from "../protocol/hclog.ts";
import type { Client } from "../rpc/core/types.ts";
import type { NetRpcClientOf, NetRpcInterface } from "../rpc/netrpc/define.ts";
import { define } from "../rpc/netrpc/define.ts";
import { ManagedPlugin } from "../supervisor/managed-plugin.ts";
import type { HostConfig, ServiceConfig } from "./config.ts";
import { loadConfig } from "./config.ts";
import type { DriverSource, InProcessDriver } from "./drivers.ts";
import {
  driverLauncher,
  driverManifest,
  isInstallable,
  resolveDriver,
  serviceSource,
} from "./drivers.ts";
import type { LockKey } from "./locked-driver.ts";

/** What a net/rpc service starts with before the host names its interface: nothing to call. */
const unknownInterface = define({});

export interface ServiceManagerOptions {
  /** In-process drivers by name, usable as `driver = "<name>"`. */
  inProcess?: Readonly<Record<string, InProcessDriver>> | undefined;
  /** Discover `[manager] plugin_dirs` too. Default true. */
  discover?: boolean | undefined;
  /** Supervision settings for every plugin. */
  supervise?: SuperviseOptions | undefined;
  /**
   * The host's net/rpc interfaces by plugin name (go-plugin's plugin map): a service with
   * `netrpc_plugin = "<name>"` starts with that interface. `service(name, Iface)` also gives it,
   * before the first start.
   */
  netrpc?: Readonly<Record<string, NetRpcInterface>> | undefined;
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
  /** The net/rpc interface each net/rpc service starts with, once known. */
  readonly #interfaces: Map<string, NetRpcInterface>;

  private constructor(
    config: HostConfig,
    registry: PluginRegistry,
    sources: Map<string, DriverSource>,
    interfaces: Map<string, NetRpcInterface>,
  ) {
    this.config = config;
    this.registry = registry;
    this.sources = sources;
    this.#interfaces = interfaces;
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
    const interfaces = new Map<string, NetRpcInterface>();
    for (const service of Object.values(config.services)) {
      const netrpcName = service.netrpcPlugin;
      const known = netrpcName === undefined ? undefined : options.netrpc?.[netrpcName];
      if (known !== undefined) interfaces.set(service.name, known);
      const source = serviceDriver(config, service, inProcess);
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
            // Until the host names the interface, the plugin must still speak net/rpc.
            plugins:
              netrpcName === undefined
                ? undefined
                : () => ({ [netrpcName]: interfaces.get(service.name) ?? unknownInterface }),
            hostVersions: manager.hostVersions,
            lock: isInstallable(source) ? lockKey(lockFile, service) : undefined,
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
    return new ServiceManager(config, registry, sources, interfaces);
  }

  /**
   * The typed client of a configured service, whatever its driver: a gRPC service's client, or
   * for a `netrpc_plugin` service the client of its net/rpc interface.
   */
  service<S extends DescService>(name: string, service: S): Client<S>;
  service<I extends NetRpcInterface>(name: string, iface: I): NetRpcClientOf<I>;
  service(name: string, what: DescService | NetRpcInterface): unknown {
    const plugin = this.plugin(name);
    if (what.kind === "service") return plugin.client(what);
    const config = this.config.services[name];
    const netrpcName = config?.netrpcPlugin;
    if (netrpcName === undefined)
      throw new PluginError(
        "CONFIG_INVALID",
        `${this.config.file}: service ${JSON.stringify(name)} is no net/rpc driver: set \`netrpc_plugin\` to the name its plugin serves`,
        { plugin: name },
      );
    const known = this.#interfaces.get(name);
    if (known !== undefined && known !== what)
      throw new PluginError(
        "CONFIG_INVALID",
        `service ${JSON.stringify(name)} is dispensed as another net/rpc interface already: declare the interface once and pass that one`,
        { plugin: name },
      );
    if (known === undefined && plugin.state.t === "running")
      throw new PluginError(
        "CONFIG_INVALID",
        `service ${JSON.stringify(name)} started before its net/rpc interface was known: give it in the options' \`netrpc\``,
        { plugin: name },
      );
    this.#interfaces.set(name, what);
    return plugin.dispense(netrpcName, what);
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

/** What a service's driver names; an error names the file, line and key. */
function serviceDriver(
  config: HostConfig,
  service: ServiceConfig,
  inProcess: Readonly<Record<string, InProcessDriver>>,
): DriverSource {
  try {
    return resolveDriver(service.driver, {
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
}

/** Where an installable service's entry is in the lock: its name, source and constraint. */
function lockKey(file: string, service: ServiceConfig): LockKey {
  return {
    file,
    name: service.name,
    source: serviceSource(service.driver, service.ref),
    constraint: service.version,
  };
}
