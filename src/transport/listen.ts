import { randomInt } from "node:crypto";
import { chmodSync, chownSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PluginError } from "../errors/plugin-error.ts";
import type { Network } from "../protocol/handshake-line.ts";

/** sun_path holds 108 bytes on Linux and 104 on macOS/BSD, including the terminating NUL. */
export const maxUnixSocketPathBytes = process.platform === "linux" ? 107 : 103;

/** A socket path in `dir` named like go-plugin's (`plugin` + digits), checked against the limit. */
export function unixSocketPath(dir: string | undefined): string {
  const base = dir === undefined || dir === "" ? tmpdir() : dir;
  const path = join(base, `plugin${randomInt(1e9, 1e10)}`);
  const bytes = Buffer.byteLength(path);
  if (bytes > maxUnixSocketPathBytes) {
    throw new PluginError(
      "SOCKET_PATH_TOO_LONG",
      `unix socket path ${path} is ${bytes} bytes, over the ${maxUnixSocketPathBytes}-byte limit of ${process.platform}. ` +
        "To fix this, set PLUGIN_UNIX_SOCKET_DIR (or TMPDIR) to a shorter directory.",
      { details: { path, bytes } },
    );
  }
  return path;
}

export interface ListenOptions {
  readonly network: Network;
  readonly env: NodeJS.ProcessEnv;
}

/** Where a server listens, in handshake form (`/tmp/plugin123` or `127.0.0.1:4567`). */
export interface BoundAddress {
  readonly network: Network;
  readonly address: string;
  /** Removes the socket file (unix); safe to call more than once. */
  readonly cleanup: () => void;
}

/**
 * Binds `server` as a go-plugin plugin does: a unix socket in PLUGIN_UNIX_SOCKET_DIR (group and
 * 0660 from PLUGIN_UNIX_SOCKET_GROUP), or TCP on 127.0.0.1 within PLUGIN_MIN_PORT..MAX_PORT.
 */
export async function listen(server: Server, options: ListenOptions): Promise<BoundAddress> {
  if (options.network === "unix") {
    const path = unixSocketPath(options.env.PLUGIN_UNIX_SOCKET_DIR);
    await bind(server, path);
    const cleanup = () => rmSync(path, { force: true });
    const group = options.env.PLUGIN_UNIX_SOCKET_GROUP;
    if (group !== undefined && group !== "") {
      try {
        chownSync(path, -1, resolveGroup(group));
        chmodSync(path, 0o660);
      } catch (error) {
        cleanup();
        throw PluginError.from(error, "CONFIG_INVALID");
      }
    }
    return { network: "unix", address: path, cleanup };
  }
  const min = Number(options.env.PLUGIN_MIN_PORT ?? 0);
  const max = Number(options.env.PLUGIN_MAX_PORT ?? 0);
  if (min > max) {
    throw new PluginError(
      "CONFIG_INVALID",
      `PLUGIN_MIN_PORT value of ${min} is greater than PLUGIN_MAX_PORT value of ${max}`,
    );
  }
  // Go plugins scan the range only on Windows; elsewhere an OS-chosen port avoids collisions.
  const ports = process.platform === "win32" && max > 0 ? range(min, max) : [0];
  for (const port of ports) {
    try {
      await bind(server, port);
      const bound = server.address();
      const actual = typeof bound === "object" && bound !== null ? bound.port : port;
      return { network: "tcp", address: `127.0.0.1:${actual}`, cleanup: () => {} };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw new PluginError("CONFIG_INVALID", `no free TCP port between ${min} and ${max}`);
}

function bind(server: Server, where: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    const done = () => {
      server.off("error", onError);
      resolve();
    };
    if (typeof where === "string") server.listen(where, done);
    else server.listen(where, "127.0.0.1", done);
  });
}

function range(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/** A group given by number or by name (looked up in /etc/group). */
export function resolveGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new PluginError("CONFIG_INVALID", `unknown group "${group}" in PLUGIN_UNIX_SOCKET_GROUP`);
}
