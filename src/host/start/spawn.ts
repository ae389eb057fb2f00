// The spawn step: from resolved options to a running plugin process whose stderr is mirrored and
// whose tree, pipes and socket directory go when it exits. Everything before the process exists
// (checksum, AutoMTLS key, socket directory) stops at the step's signal and leaves nothing.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterLoopTurn } from "../../internal/settle.ts";
import type { Step } from "../../internal/step.ts";
import { checkStep, untilStep } from "../../internal/step.ts";
import { signalGroup } from "../../platform/process.ts";
import type { TlsIdentity } from "../../transport/auto-mtls.ts";
import { generateTlsIdentity } from "../../transport/auto-mtls.ts";
import { mirrorStderr, StderrTail } from "../client/stderr-mirror.ts";
import { openVerified } from "./checksum.ts";
import type { StartConfig } from "./config.ts";
import { pluginEnvironment } from "./environment.ts";
import { endTreeWithProcess, spawnPlugin } from "./launch.ts";
import type { SocketDir } from "./socket-dir.ts";
import { openSocketDir, removeSocketDir } from "./socket-dir.ts";

/** A plugin process that runs, and what the later steps need of it. */
export interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The identity offered to the plugin (PLUGIN_CLIENT_CERT); none without AutoMTLS. */
  readonly identity: TlsIdentity | undefined;
  readonly socketDir: SocketDir;
  /** The last lines of its stderr, for error messages. */
  readonly tail: StderrTail;
  /** Settles when the process has exited. */
  readonly exited: Promise<unknown>;
  /** Settles when stderr reached its end (the tail is complete). */
  readonly stderrDone: Promise<void>;
  /** Settles when the tree is gone, the pipes are closed and the socket directory removed. */
  readonly processDone: Promise<void>;
}

/**
 * Verifies the executable (`secure`), gets the AutoMTLS identity, makes the socket directory and
 * spawns the plugin. The signal is checked first and once more right before the spawn: an
 * aborted start creates nothing and never starts a process.
 */
export async function spawnStep(config: StartConfig, step: Step): Promise<Started> {
  checkStep(step, "start"); // an aborted start does nothing at all
  // Verified from one open file, and that file is what runs (docs/lifecycle.md, "Checksums").
  const verified =
    config.secure === undefined
      ? undefined
      : await openVerified(config.cmd, config.secure, config.name, step);
  try {
    const identity = await identityFor(config, step);
    const socketDir = openSocketDir(config);
    try {
      checkStep(step, "start");
      const child = await spawnPlugin({
        name: config.name,
        cmd: config.cmd,
        args: config.args,
        cwd: config.cwd,
        processGroup: config.processGroup,
        dieWithHost: config.dieWithHost,
        socketDir: socketDir.t === "private" ? socketDir.path : undefined,
        verifiedFd: verified?.fd,
        env: environment(config, identity, socketDir),
      });
      try {
        return watch(config, child, identity, socketDir);
      } catch (error) {
        signalGroup(child.pid, "SIGKILL", config.processGroup); // nothing would end it otherwise
        throw error;
      }
    } catch (error) {
      removeSocketDir(socketDir);
      throw error;
    }
  } finally {
    verified?.close(); // the child holds its own copy of the descriptor
  }
}

/** The identity to present: the caller's, a fresh one (key generation ends at the signal), none. */
function identityFor(config: StartConfig, step: Step): Promise<TlsIdentity | undefined> {
  switch (config.tls.t) {
    case "none":
      return Promise.resolve(undefined);
    case "given":
      return Promise.resolve(config.tls.identity);
    case "fresh":
      return untilStep(step, generateTlsIdentity(), "start");
  }
}

function environment(
  config: StartConfig,
  identity: TlsIdentity | undefined,
  socketDir: SocketDir,
): Record<string, string> {
  return pluginEnvironment({
    handshake: config.handshake,
    versions: config.versions,
    env: config.env,
    skipHostEnv: config.skipHostEnv,
    hostEnv: config.hostEnv,
    clientCertPem: identity?.certPem,
    network: config.network,
    unixSocketDir: socketDir.path,
    unixSocketGroup: config.unixSocketGroup,
    multiplex: config.multiplex,
    fastWire: config.offerFastWire,
  });
}

/** Mirrors the plugin's stderr and ties the end of its tree (and directory) to its exit. */
function watch(
  config: StartConfig,
  child: ChildProcess,
  identity: TlsIdentity | undefined,
  socketDir: SocketDir,
): Started {
  const tail = new StderrTail();
  const exited = once(child, "exit").catch(() => {});
  const stderrDone = mirrorStderr(
    child.stderr!,
    {
      name: config.name,
      logger: config.logger,
      stderr: config.stderr,
      lineBytes: config.logLineBytes,
      onProblem: (problem) =>
        config.logger?.warn(
          `[LOG_LINE_INVALID] plugin ${config.name} wrote a log line plugwire could not parse as hclog (${problem}); it was mirrored as raw text`,
          { plugin: config.name },
        ),
    },
    tail,
  );
  // The plugin's whole tree ends with its process, and the host's pipes and the directory with it.
  const processDone = endTreeWithProcess(child, {
    processGroup: config.processGroup,
    exited,
    pipes: Promise.all([stderrDone, once(child.stdout!, "close").catch(() => {})]),
    cleanup: () => removeSocketDir(socketDir),
  });
  return {
    child,
    pid: child.pid!,
    identity,
    socketDir,
    tail,
    exited,
    stderrDone,
    processDone,
  };
}

/**
 * Ends a start that failed after the spawn: SIGKILLs the plugin (its group with `processGroup`)
 * and waits until its tree, pipes, directory and process handle are gone, so a failed start leaves
 * nothing behind.
 */
export async function killStarted(started: Started, processGroup: boolean): Promise<void> {
  const { child } = started;
  if (child.exitCode === null && child.signalCode === null)
    signalGroup(child.pid, "SIGKILL", processGroup);
  await started.processDone;
  await afterLoopTurn(); // the process handle is released
}
