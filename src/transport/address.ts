import { BlockList, isIP } from "node:net";
import { PluginError } from "../errors/plugin-error.ts";

/** A checked place to connect to: a unix socket path, or a TCP host (an IP, or a name) and port. */
export type DialTarget =
  | { readonly path: string }
  | { readonly host: string; readonly port: number };

/** What a host accepts besides a loopback address. */
export interface AddressPolicy {
  /** Accept a TCP address that is not on this machine (not loopback). Default false. */
  readonly allowRemoteTcp?: boolean | undefined;
}

/**
 * The longest unix socket path the OS takes: `sun_path` holds 108 bytes on Linux and 104 on macOS
 * and the BSDs, the terminating NUL included (go-plugin-protocol §14.25).
 */
export const maxUnixPathBytes = process.platform === "linux" ? 107 : 103;

let loopbackList: BlockList | undefined;

/**
 * The addresses that reach this machine, made on first use: a BlockList holds a native handle,
 * which a V8 startup snapshot cannot keep (`plugwire build --snapshot` evaluates this module
 * while building one; docs/performance.md, decision 16).
 */
function loopback(): BlockList {
  if (loopbackList !== undefined) return loopbackList;
  const list = new BlockList();
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addAddress("::1", "ipv6");
  list.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
  // Dialling the unspecified address reaches this machine too.
  list.addAddress("0.0.0.0", "ipv4");
  list.addAddress("::", "ipv6");
  loopbackList = list;
  return list;
}

/**
 * Checks an address a plugin announced (its handshake line, a broker's connection info) before
 * anything is dialled, and returns where to connect. Throws HANDSHAKE_INVALID naming the field
 * (`details.field`: "network" or "address") for anything the OS would refuse or misread, and for
 * TCP addresses off this machine unless `policy.allowRemoteTcp`.
 */
export function checkAddress(
  network: string,
  address: string,
  policy: AddressPolicy = {},
): DialTarget {
  if (network === "unix") return { path: checkUnixPath(address) };
  if (network === "tcp") return checkTcpAddress(address, policy);
  throw unusable("network", `unknown network ${shown(network)}; only unix and tcp exist`, {
    network,
    address,
  });
}

function checkUnixPath(path: string): string {
  const facts = { network: "unix", address: path };
  if (path === "") throw unusable("address", "an empty unix socket path", facts);
  if (path.includes("\0"))
    throw unusable("address", `a unix socket path with a NUL byte: ${shown(path)}`, facts);
  const bytes = Buffer.byteLength(path);
  if (bytes > maxUnixPathBytes) {
    throw unusable(
      "address",
      `a unix socket path of ${bytes} bytes, longer than the ${maxUnixPathBytes} bytes this OS allows (sun_path): ${shown(path)}`,
      facts,
    );
  }
  return path;
}

function checkTcpAddress(address: string, policy: AddressPolicy): DialTarget {
  const facts = { network: "tcp", address };
  const colon = address.lastIndexOf(":");
  if (colon < 0)
    throw unusable("address", `a tcp address without a port: ${shown(address)}`, facts);
  const hostField = address.slice(0, colon);
  const portField = address.slice(colon + 1);
  const bracketed = hostField.startsWith("[") && hostField.endsWith("]");
  const host = bracketed ? hostField.slice(1, -1) : hostField;
  if (bracketed ? isIP(host) !== 6 : host.includes(":") || /[[\]\s/]/.test(host)) {
    throw unusable("address", `a malformed tcp host in ${shown(address)}`, facts);
  }
  const port = /^\d{1,5}$/.test(portField) ? Number(portField) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw unusable(
      "address",
      `tcp port ${shown(portField, false)} in ${shown(address)}, outside 1–65535`,
      facts,
    );
  }
  // Go dials ":port" on the local system; so do we, on IPv4 loopback.
  const target = { host: host === "" ? "127.0.0.1" : host, port };
  if (policy.allowRemoteTcp === true) return target;
  const family = isIP(target.host);
  if (family === 0 && target.host !== "localhost") {
    throw unusable(
      "address",
      `tcp host ${shown(target.host)} is not an IP address; plugins announce the IP they listen on (set allowRemoteTcp: true to dial names)`,
      facts,
    );
  }
  if (family !== 0 && !loopback().check(target.host, family === 4 ? "ipv4" : "ipv6")) {
    throw unusable(
      "address",
      `${target.host} is not a loopback address; plugwire dials plugins on this machine only (set allowRemoteTcp: true to allow others)`,
      facts,
    );
  }
  return target;
}

function unusable(
  field: "network" | "address",
  what: string,
  facts: { network: string; address: string },
): PluginError {
  return new PluginError(
    "HANDSHAKE_INVALID",
    `the plugin announced ${what}. plugwire did not connect; the plugin must announce an address it listens on`,
    { details: { field, network: facts.network, address: facts.address.slice(0, 4096) } },
  );
}

/** A value as it appears in a message: quoted, control characters escaped, at most 120 characters. */
function shown(value: string, quote = true): string {
  const text = value.length > 120 ? `${value.slice(0, 120)}…` : value;
  return quote ? JSON.stringify(text) : text;
}
