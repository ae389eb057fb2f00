import type { Step } from "../../internal/step.ts";
import { checkStep } from "../../internal/step.ts";
import type { WireProtocol } from "../../protocol/handshake-line.ts";
import { formatHandshake } from "../../protocol/handshake-line.ts";
import type { BoundAddress } from "../../transport/listen.ts";
import type { Wire } from "./listen.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** What a plugin tells its host once it listens. */
export interface Announcement {
  readonly protocolVersion: number;
  /** go-plugin's protocol of the version served. */
  readonly protocol: WireProtocol;
  readonly bound: BoundAddress;
  readonly wire: Wire;
  /** Our AutoMTLS certificate (unpadded base64 DER), or "" without TLS. */
  readonly serverCert: string;
}

/** Debug mode's name for the reattach config and the variable a host reads it from. */
export interface DebugAnnouncement {
  readonly name: string;
  readonly envVar?: string | undefined;
}

/**
 * Prints the handshake line on the real stdout, the first and only line a host reads there;
 * from then on the application's stderr goes to the host too (GRPCStdio). In debug mode it
 * prints the reattach config instead. Nothing is printed once the step's signal has fired.
 */
export async function announce(
  step: Step,
  stdio: StdioCapture,
  what: Announcement,
  debug: DebugAnnouncement | undefined,
): Promise<void> {
  checkStep(step);
  if (debug !== undefined) {
    await stdio.writeRealStdout(reattachText(what, debug));
    return;
  }
  const { protocolVersion, protocol, bound, wire, serverCert } = what;
  const line = formatHandshake({
    protocolVersion,
    network: bound.network,
    address: bound.address,
    protocol,
    serverCert,
    // Field 7 only when the host asked (older hosts would glue it onto the certificate); a
    // net/rpc plugin answers true as a Go plugin does (its host ignores the field).
    muxSupported: wire.muxAsked ? wire.mux || protocol === "netrpc" : undefined,
    fastWire: wire.fastWire,
  });
  await stdio.writeRealStdout(`${line}\n`);
  stdio.captureStderr();
}

/** go-plugin's test-mode banner: how to point a host at this running plugin. */
function reattachText(what: Announcement, debug: DebugAnnouncement): string {
  const reattach = {
    [debug.name]: {
      Protocol: what.protocol,
      ProtocolVersion: what.protocolVersion,
      Pid: process.pid,
      Test: true,
      Addr: { Network: what.bound.network, String: what.bound.address },
    },
  };
  const envVar = debug.envVar ?? "PLUGWIRE_REATTACH";
  return `Plugin started. To attach a host, set the ${envVar} environment variable with the following:\n\n\t${envVar}='${JSON.stringify(reattach)}'\n\n`;
}
