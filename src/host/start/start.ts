import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, chownSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { asConnection, MuxRouter } from "../../broker/mux-transport.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { afterLoopTurn, settlesWithin } from "../../internal/settle.ts";
import { YamuxSession } from "../../mux/session.ts";
import { makeSocketDir } from "../../platform/socket-dirs.ts";
import type { ParsedHandshake } from "../../protocol/handshake-line.ts";
import { parseHandshake } from "../../protocol/handshake-line.ts";
import { createClient } from "../../rpc/core/client.ts";
import type { Channel } from "../../rpc/core/types.ts";
import { FastChannel } from "../../rpc/fast/channel.ts";
import { fastWireAlpn } from "../../rpc/fast/frames.ts";
import { RpcChannel } from "../../rpc/grpc/channel.ts";
import type { DialTarget } from "../../transport/address.ts";
import { checkAddress } from "../../transport/address.ts";
import type { TlsIdentity } from "../../transport/auto-mtls.ts";
import { certPemFromHandshake, generateTlsIdentity } from "../../transport/auto-mtls.ts";
import { connectChannel, dialer, secureClient } from "../../transport/dial.ts";
import { resolveGroup } from "../../transport/listen.ts";
import { defaultName, PluginClient } from "../client/plugin-client.ts";
import { mirrorStderr, StderrTail } from "../client/stderr-mirror.ts";
import type { AttachOptions, PluginSet, StartOptions } from "../options.ts";
import { checkNonNegative } from "../options.ts";
import { openVerified } from "./checksum.ts";
import { diagnose } from "./diagnose.ts";
import { hostEnvFilter, pluginEnvironment } from "./environment.ts";
import { endTreeWithProcess, readHandshakeLine, spawnPlugin, withTail } from "./launch.ts";

/**
 * Launches a plugin executable and connects to it, as go-plugin's `Client.Start` + `Client()`:
 * checksum, environment, spawn, handshake, AutoMTLS, connection, stdio and broker streams. Any
 * failure kills the process and rejects with a PluginError naming the plugin.
 *
 * @example
 * await using kv = await startPlugin({ cmd: "./kv-plugin", handshake, plugins: { kv: KV } });
 * await kv.dispense("kv").put({ key: "hello", value: new TextEncoder().encode("world") });
 */
export async function startPlugin<P extends PluginSet = PluginSet>(
  options: StartOptions<P>,
): Promise<PluginClient<P>> {
  const name = defaultName(options);
  const startTimeoutMs = checkNonNegative(options.startTimeoutMs, "startTimeoutMs", 60_000);
  // The start timeout bounds the whole start: handshake and connection check included.
  const deadline = Date.now() + startTimeoutMs;
  const remainingMs = () => Math.max(1, deadline - Date.now());
  checkNonNegative(options.killGraceMs, "killGraceMs", 2000);
  hostEnvFilter(options.hostEnv); // a bad allow-list fails here, before anything is created
  const versions = options.versions ?? [options.handshake.protocolVersion ?? 1];
  if (versions.length === 0)
    throw new PluginError("CONFIG_INVALID", "versions must list at least one protocol version", {
      plugin: name,
    });
  // Verified from one open file, and that file is what runs (docs/lifecycle.md, "Checksums").
  const verified =
    options.secure === undefined
      ? undefined
      : await openVerified(options.cmd, options.secure, name);
  const identity =
    options.autoMtls === false ? undefined : (options.tlsIdentity ?? (await generateTlsIdentity()));
  const processGroup = options.processGroup ?? true;
  const offerFastWire = options.fastWire !== false && options.multiplex !== true;
  // A private socket directory per plugin (go-plugin does this for RunnerFunc): whatever sockets
  // the plugin leaves, even when it is SIGKILLed, go with the directory once it has exited.
  // Named for this host's pid, so a later host can sweep it if both this host and its tree guard
  // died (src/platform/socket-dirs.ts).
  const privateDir = options.unixSocketDir === undefined ? makeSocketDir() : undefined;
  if (privateDir !== undefined && options.unixSocketGroup !== undefined) {
    // As go-plugin's TestSetGroup: a plugin running under that group can create its sockets here.
    chownSync(privateDir, -1, resolveGroup(options.unixSocketGroup));
    chmodSync(privateDir, 0o770);
  }
  if (privateDir !== undefined) trackPrivateDir(privateDir);
  const removeSockets = () => {
    if (privateDir === undefined) return;
    rmSync(privateDir, { recursive: true, force: true });
    privateDirs.delete(privateDir);
  };
  const child = await spawnPlugin({
    name,
    cmd: options.cmd,
    args: options.args ?? [],
    cwd: options.cwd,
    processGroup,
    dieWithHost: options.dieWithHost ?? true,
    socketDir: privateDir,
    verifiedFd: verified?.fd,
    env: pluginEnvironment({
      handshake: options.handshake,
      versions,
      env: options.env,
      skipHostEnv: options.skipHostEnv,
      hostEnv: options.hostEnv,
      clientCertPem: identity?.certPem,
      network: options.network,
      unixSocketDir: options.unixSocketDir ?? privateDir,
      unixSocketGroup: options.unixSocketGroup,
      multiplex: options.multiplex,
      fastWire: offerFastWire,
    }),
  })
    .catch((error: unknown) => {
      removeSockets();
      throw error;
    })
    .finally(() => verified?.close()); // the child holds its own copy of the descriptor
  const tail = new StderrTail();
  const exited = once(child, "exit").catch(() => {});
  const stderrDone = mirrorStderr(
    child.stderr!,
    {
      name,
      logger: options.logger,
      stderr: options.stderr,
      lineBytes: options.logLineBytes,
      onProblem: (problem) =>
        options.logger?.warn(
          `[LOG_LINE_INVALID] plugin ${name} wrote a log line plugwire could not parse as hclog (${problem}); it was mirrored as raw text`,
          {
            plugin: name,
          },
        ),
    },
    tail,
  );
  // The plugin's whole tree ends with its process, and the host's pipes and the directory with it.
  const processDone = endTreeWithProcess(child, {
    processGroup,
    exited,
    pipes: Promise.all([stderrDone, once(child.stdout!, "close").catch(() => {})]),
    cleanup: removeSockets,
  });

  let channel: Channel | undefined;
  let mux: MuxRouter | undefined;
  try {
    const line = await readHandshakeLine({
      child,
      name,
      startTimeoutMs,
      waitMs: remainingMs(),
      signal: options.signal,
      exited,
      stderrTail: tail,
      stderrDone,
    });
    const handshake = parseHandshake(
      line,
      { versions, multiplex: options.multiplex === true, fastWire: offerFastWire },
      () => diagnose(options.cmd),
    );
    const tls = tlsFor(handshake, identity);
    if (options.multiplex === true) {
      // One connection, dialed now (a Go plugin gives up after 5 s), carrying every stream.
      mux = new MuxRouter(
        new YamuxSession(
          dialer({
            network: handshake.network,
            address: handshake.address,
            allowRemoteTcp: options.allowRemoteTcp,
          })(),
          { role: "client" },
        ),
        undefined,
      );
      const session = mux.session;
      channel = new RpcChannel({
        // A yamux stream ends as a connection does (see asConnection), as brokered ones do.
        connect: () => {
          const stream = asConnection(session.open());
          return tls === undefined ? stream : secureClient(tls, { socket: stream });
        },
        tls: tls !== undefined,
        maxReceiveMessageBytes: options.maxReceiveMessageBytes,
        maxSendMessageBytes: options.maxSendMessageBytes,
      });
    } else if (handshake.fastWire === true) {
      const target = {
        network: handshake.network,
        address: handshake.address,
        tls,
        allowRemoteTcp: options.allowRemoteTcp,
      };
      channel = new FastChannel({
        connect: dialer(target, fastWireAlpn),
        maxReceiveMessageBytes: options.maxReceiveMessageBytes,
        maxSendMessageBytes: options.maxSendMessageBytes,
      });
    } else {
      channel = connectChannel({
        network: handshake.network,
        address: handshake.address,
        tls,
        allowRemoteTcp: options.allowRemoteTcp,
        maxReceiveMessageBytes: options.maxReceiveMessageBytes,
        maxSendMessageBytes: options.maxSendMessageBytes,
      });
    }
    try {
      await checkConnection(channel, tls !== undefined, remainingMs());
    } catch (error) {
      // A plugin may legitimately exit right after a valid handshake; the client then reports
      // the exit instead of a connection failure.
      if (!(await settlesWithin(exited, 200))) throw error;
    }
    return new PluginClient<P>(
      {
        name,
        channel,
        wire: handshake.fastWire === true ? "fast" : "grpc",
        protocolVersion: handshake.protocolVersion,
        network: handshake.network,
        address: handshake.address,
        tls: tls !== undefined,
        pid: child.pid!,
        child,
        processDone,
        syncStdout: options.syncStdout,
        syncStderr: options.syncStderr,
        processGroup,
        mux,
        broker: {
          network: handshake.network,
          env: { PLUGIN_UNIX_SOCKET_DIR: options.unixSocketDir ?? privateDir },
          tls:
            tls === undefined
              ? undefined
              : { identity: tls.identity, peerCertPem: tls.peerCertPem },
          maxReceiveMessageBytes: options.maxReceiveMessageBytes,
          maxSendMessageBytes: options.maxSendMessageBytes,
        },
      },
      options,
    );
  } catch (error) {
    channel?.close();
    void mux?.session.close();
    await killStarted(child, processGroup, processDone);
    const failure = PluginError.from(error, "HANDSHAKE_INVALID").withPlugin(name);
    const shown =
      failure.code === "HANDSHAKE_INVALID" || failure.code === "TLS_FAILED"
        ? withTail(failure, tail)
        : failure;
    throw new PluginError(shown.code, shown.rawMessage, {
      plugin: name,
      cause: shown.cause,
      details: { ...shown.details, pid: child.pid, path: options.cmd },
    });
  }
}

/** Attaches to a plugin that is already running (go-plugin's Reattach); no process is started. */
export async function attachPlugin<P extends PluginSet = PluginSet>(
  options: AttachOptions<P>,
): Promise<PluginClient<P>> {
  const { reattach } = options;
  const name = options.name ?? `plugin-${reattach.pid}`;
  await probe(checkAddress(reattach.addr.network, reattach.addr.address, options), name);
  const channel = connectChannel({
    network: reattach.addr.network,
    address: reattach.addr.address,
    allowRemoteTcp: options.allowRemoteTcp,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes,
    maxSendMessageBytes: options.maxSendMessageBytes,
  });
  return new PluginClient<P>(
    {
      name,
      channel,
      protocolVersion: reattach.protocolVersion,
      network: reattach.addr.network,
      address: reattach.addr.address,
      tls: false,
      pid: reattach.pid,
      test: reattach.test,
      broker: { network: reattach.addr.network, env: {}, tls: undefined },
    },
    // A debug-mode plugin is not ours to stop at exit.
    reattach.test ? { ...options, managed: false } : options,
  );
}

function tlsFor(handshake: ParsedHandshake, identity: TlsIdentity | undefined) {
  if (identity === undefined) {
    if (handshake.serverCert !== "") {
      throw new PluginError(
        "TLS_FAILED",
        "the plugin sent a certificate although the host did not ask for AutoMTLS (a Go host would crash here). " +
          "Its environment probably carries a stale PLUGIN_CLIENT_CERT; start it with autoMtls enabled or fix the plugin.",
      );
    }
    return undefined;
  }
  if (handshake.serverCert === "") {
    throw new PluginError(
      "TLS_FAILED",
      "the host asked for AutoMTLS but the plugin returned no certificate in its handshake. " +
        "The plugin does not support AutoMTLS; start it with autoMtls: false.",
    );
  }
  return { identity, peerCertPem: certPemFromHandshake(handshake.serverCert) };
}

/**
 * One health call proves the connection (and TLS) works, so a broken plugin fails here rather than
 * on the application's first call. Only a real answer counts: the health response, or a gRPC
 * status the plugin sent (UNIMPLEMENTED included: go-plugin's Ping checks no status). Whatever
 * plugwire concluded by itself (no connection, a TLS failure, the start deadline, an answer that
 * is not gRPC or does not decode) fails the start.
 */
async function checkConnection(channel: Channel, tls: boolean, timeoutMs: number): Promise<void> {
  try {
    await createClient(Health, channel).check({ service: "plugin" }, { timeoutMs });
  } catch (error) {
    const failure = PluginError.from(error);
    if (failure.details.fromPeer === true) return;
    if (failure.code !== "UNAVAILABLE" && failure.code !== "DEADLINE_EXCEEDED") {
      throw new PluginError(
        "UNAVAILABLE",
        `the plugin did not answer the connection check (grpc.health.v1.Health/Check) with gRPC: ${failure.rawMessage}. ` +
          "Something listens at the address it announced, but it is not a working go-plugin gRPC server.",
        { cause: failure },
      );
    }
    throw new PluginError(
      tls ? "TLS_FAILED" : "UNAVAILABLE",
      `cannot reach the plugin at the address it announced: ${failure.rawMessage}` +
        (tls
          ? ". The AutoMTLS handshake failed; the plugin may not trust the host's certificate."
          : ""),
      { cause: failure },
    );
  }
}

/** Private socket directories of running plugins, removed even when the host exits abruptly. */
const privateDirs = new Set<string>();
let exitHooked = false;
function trackPrivateDir(dir: string): void {
  privateDirs.add(dir);
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const path of privateDirs) rmSync(path, { recursive: true, force: true });
  });
}

async function killStarted(
  child: ChildProcess,
  processGroup: boolean,
  done: Promise<void>,
): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(processGroup ? -child.pid! : child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await done;
  await afterLoopTurn(); // the process handle is released: a failed start leaves nothing behind
}

function probe(target: DialTarget, name: string): Promise<void> {
  const where = "path" in target ? `unix:${target.path}` : `tcp:${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const socket = netConnect(target as never);
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", (error) =>
      reject(
        new PluginError(
          "REATTACH_NOT_FOUND",
          `reattachment process not found: nothing listens at ${where} (${error.message})`,
          {
            plugin: name,
            cause: error,
          },
        ),
      ),
    );
  });
}
