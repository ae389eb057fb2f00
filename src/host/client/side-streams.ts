import type { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { GRPCBroker } from "../../gen/plugin/grpc_broker_pb.js";
import { GRPCStdio, StdioData_Channel } from "../../gen/plugin/grpc_stdio_pb.js";
import type { Logger } from "../../protocol/hclog.ts";
import { createClient } from "../../rpc/core/client.ts";
import type { Channel } from "../../rpc/core/types.ts";
import { brokerStreamEndedError } from "./explain-errors.ts";

/**
 * The two streams a go-plugin host keeps open beside the calls, both tied to the one connection
 * they were opened on: GRPCStdio (the plugin's stdout and stderr) and the broker's stream.
 */
export interface SideStreams {
  readonly name: string;
  /** The plugin's own channel (errors are handled here, not explained). */
  readonly channel: Channel;
  readonly broker: Broker;
  readonly logger: Logger | undefined;
  readonly syncStdout?: NodeJS.WritableStream | undefined;
  readonly syncStderr?: NodeJS.WritableStream | undefined;
  /** Fires when the client stops or exits: the streams then end quietly. */
  readonly signal: AbortSignal;
  /** The broker stream ended while the client runs: its connection is gone. */
  brokerStreamLost(failure: PluginError | undefined): Promise<void>;
}

/** Opens GRPCStdio and the broker stream at once, as go-plugin hosts do (§14.19, §14.35). */
export function openSideStreams(streams: SideStreams): void {
  void pumpStdio(streams);
  void pumpBroker(streams);
}

async function pumpStdio(streams: SideStreams): Promise<void> {
  const { signal, syncStdout, syncStderr } = streams;
  try {
    for await (const data of createClient(GRPCStdio, streams.channel).streamStdio({}, { signal })) {
      const target =
        data.channel === StdioData_Channel.STDOUT
          ? syncStdout
          : data.channel === StdioData_Channel.STDERR
            ? syncStderr
            : undefined;
      // Back-pressure: while the sink is full this stream is not read, so the plugin's own
      // writes wait (credit on the fast wire, the HTTP/2 window on gRPC).
      if (target !== undefined && !target.write(data.data)) await drained(target, signal);
    }
  } catch (error) {
    if (!signal.aborted)
      streams.logger?.debug("stdio stream ended", { plugin: streams.name, error });
  }
}

async function pumpBroker(streams: SideStreams): Promise<void> {
  const { signal, broker } = streams;
  let failure: PluginError | undefined;
  try {
    const infos = createClient(GRPCBroker, streams.channel).startStream(broker.outgoing, {
      signal,
    });
    for await (const info of infos) broker.receive(info);
  } catch (error) {
    failure = PluginError.from(error);
    if (!signal.aborted)
      streams.logger?.debug("broker stream ended", { plugin: streams.name, error });
  }
  if (signal.aborted || failure?.code === "UNIMPLEMENTED") {
    // Stopping or exited; or a plugin without go-plugin's broker service (all else works).
    void broker.close(brokerStreamEndedError(streams.name, failure));
    return;
  }
  await streams.brokerStreamLost(failure);
}

/** Resolves when `sink` drains, closes, or `signal` aborts. */
function drained(sink: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.removeListener("drain", done);
      sink.removeListener("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    sink.on("drain", done);
    sink.on("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
