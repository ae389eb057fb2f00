import { basename } from "node:path";
import type { PluginSet, StartOptions } from "../host/options.ts";
import type { SecureConfig } from "../host/start/checksum.ts";
import { startPlugin } from "../host/start/start.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { Logger } from "../protocol/hclog.ts";
import { settingsEnv } from "../providers/driver-settings.ts";
import type { TlsIdentity } from "../transport/auto-mtls.ts";
import { generateTlsIdentity } from "../transport/auto-mtls.ts";
import type { Connection } from "./connection.ts";
import { processConnection } from "./connection.ts";

/** How to start one plugin process. */
export interface ProcessSpec {
  /** Name in logs and errors. Default: the executable's base name. */
  name?: string | undefined;
  /** The executable (or an interpreter, with the script in `args`). */
  cmd: string;
  args?: readonly string[] | undefined;
  cwd?: string | undefined;
  env?: Readonly<Record<string, string>> | undefined;
  handshake: HandshakeConfig;
  /** Protocol versions the host offers. Default `[handshake.protocolVersion ?? 1]`. */
  versions?: readonly number[] | undefined;
  /**
   * The plugins to dispense by name: net/rpc interfaces (`netrpc.define`) for a plugin on
   * go-plugin's net/rpc protocol, which then must speak it. Default none (either protocol).
   */
  plugins?: PluginSet | undefined;
  /** Settings handed to the plugin as JSON in PLUGWIRE_DRIVER_SETTINGS. */
  settings?: unknown;
  /** Verify the executable's digest before every start. */
  secure?: SecureConfig | undefined;
  /** The whole start (spawn, handshake, connection check) must finish within this. Default 10000. */
  startTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  /** Extra options for `startPlugin` (autoMtls, stderr, network, ...). */
  start?: Partial<StartOptions<Record<string, never>>> | undefined;
}

/**
 * Starts a plugin process, bounded by `startTimeoutMs` in total (handshake and connection check),
 * and returns its connection. The host's `dieWithHost` (on by default) makes the kernel kill it if
 * this process dies, so no plugin is ever orphaned.
 */
export async function launchProcess(spec: ProcessSpec, signal?: AbortSignal): Promise<Connection> {
  const name = spec.name ?? basename(spec.cmd);
  const env: Record<string, string> = { ...spec.env };
  if (spec.settings !== undefined) env[settingsEnv] = JSON.stringify(spec.settings);
  const client = await startPlugin({
    // One AutoMTLS identity for every plugin this process manages: a fresh key per start is a
    // large part of a start's CPU time, and each plugin still trusts only this host's certificate.
    tlsIdentity: spec.start?.autoMtls === false ? undefined : await sharedIdentity(),
    ...spec.start,
    name,
    cmd: spec.cmd,
    args: spec.args,
    cwd: spec.cwd,
    env,
    handshake: spec.handshake,
    plugins: spec.plugins,
    versions: spec.versions,
    secure: spec.secure,
    startTimeoutMs: spec.startTimeoutMs ?? 10_000,
    logger: spec.logger,
    signal,
  });
  return processConnection(client);
}

let identity: Promise<TlsIdentity> | undefined;
function sharedIdentity(): Promise<TlsIdentity> {
  identity ??= generateTlsIdentity();
  return identity;
}
