import { dirname, isAbsolute, join } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { HostEnvPolicy } from "../host/start/environment.ts";
import { hostEnvFilter } from "../host/start/environment.ts";
import type { HandshakeConfig } from "../protocol/env.ts";
import type { ConfigFail } from "../trust/trust-config.ts";
import { locateKey } from "./config-locate.ts";

/**
 * Typed reads of values in one config file. Each takes the dotted key path of the value, and a
 * wrong value fails with CONFIG_INVALID naming the file, the line and the key.
 */
export interface ConfigReader {
  readonly file: string;
  /** The config file's folder, which relative paths are relative to. */
  readonly baseDir: string;
  readonly fail: ConfigFail;
  /** The line (1-based) where the key is set. */
  line(path: string[]): number;
  /** A table; absent is empty. */
  table(value: unknown, path: string[]): Record<string, unknown>;
  /** Fails on the first key of `table` that is not in `keys`. */
  known(table: Record<string, unknown>, path: string[], keys: readonly string[]): void;
  string(value: unknown, path: string[]): string;
  handshake(value: unknown, path: string[]): HandshakeConfig | undefined;
  hostEnv(value: unknown, path: string[]): HostEnvPolicy | undefined;
  /** A path made absolute against the config file's folder. */
  absolute(path: string): string;
}

export function configReader(text: string, file: string): ConfigReader {
  const baseDir = dirname(file);
  const fail = (path: string[], message: string): never => {
    const line = locateKey(text, path);
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}:${line}: key \`${path.join(".")}\`: ${message}`,
      {
        details: { file, line, key: path.join(".") },
      },
    );
  };
  const reader: ConfigReader = {
    file,
    baseDir,
    fail,
    line: (path) => locateKey(text, path),
    table(value, path) {
      if (value === undefined) return {};
      if (
        typeof value !== "object" ||
        value === null ||
        Array.isArray(value) ||
        value instanceof Date
      )
        return fail(path, `expected a table, got ${JSON.stringify(value)}`);
      return value as Record<string, unknown>;
    },
    known(table, path, keys) {
      for (const key of Object.keys(table))
        if (!keys.includes(key))
          fail([...path, key], `unknown key (expected one of: ${keys.join(", ")})`);
    },
    string: (value, path) =>
      typeof value === "string" && value !== ""
        ? value
        : fail(path, `expected a non-empty string, got ${JSON.stringify(value)}`),
    handshake(value, path) {
      if (value === undefined) return undefined;
      const t = reader.table(value, path);
      reader.known(t, path, ["magic_cookie_key", "magic_cookie_value", "protocol_version"]);
      const version = t.protocol_version ?? 1;
      if (!Number.isInteger(version))
        fail([...path, "protocol_version"], `expected an integer, got ${JSON.stringify(version)}`);
      return {
        magicCookieKey: reader.string(t.magic_cookie_key, [...path, "magic_cookie_key"]),
        magicCookieValue: reader.string(t.magic_cookie_value, [...path, "magic_cookie_value"]),
        protocolVersion: version as number,
      };
    },
    hostEnv(value, path) {
      if (value === undefined) return undefined;
      try {
        hostEnvFilter(value as HostEnvPolicy);
      } catch (error) {
        return fail(
          path,
          `expected "all", "none" or an array of variable names and PREFIX_* patterns (${(error as Error).message})`,
        );
      }
      return value as HostEnvPolicy;
    },
    absolute: (path) => (isAbsolute(path) ? path : join(baseDir, path)),
  };
  return reader;
}
