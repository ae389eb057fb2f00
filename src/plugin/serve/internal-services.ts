import type { Broker } from "../../broker/broker.ts";
import { PluginError } from "../../errors/plugin-error.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCBroker } from "../../gen/plugin/grpc_broker_pb.js";
import { GRPCController } from "../../gen/plugin/grpc_controller_pb.js";
import { GRPCStdio } from "../../gen/plugin/grpc_stdio_pb.js";
import { implement } from "../../rpc/core/types.ts";
import type { StdioCapture } from "./stdio-capture.ts";

/** grpc.health.v1: `plugin` (go-plugin's name) and `` (the server as a whole) are SERVING. */
export function healthService() {
  const status = (service: string) => {
    if (service === "plugin" || service === "") return HealthCheckResponse_ServingStatus.SERVING;
    throw new PluginError("NOT_FOUND", "unknown service");
  };
  return implement(Health, {
    check: (request) => ({ status: status(request.service) }),
    async *watch(request, context) {
      yield { status: status(request.service) };
      await new Promise((resolve) =>
        context.signal.addEventListener("abort", resolve, { once: true }),
      );
    },
  });
}

/** plugin.GRPCController: answers Shutdown first, then stops (go-plugin stops before answering). */
export function controllerService(onShutdown: () => void) {
  return implement(GRPCController, {
    shutdown() {
      setImmediate(onShutdown);
      return {};
    },
  });
}

/** plugin.GRPCStdio: the captured stdout/stderr, for the one host that subscribes. */
export function stdioService(capture: StdioCapture) {
  return implement(GRPCStdio, {
    streamStdio: (_request, context) => capture.subscribe(context.signal),
  });
}

/**
 * plugin.GRPCBroker: the host opens this stream right after connecting; connection info flows
 * both ways on it for the life of the connection (docs/broker.md).
 */
export function brokerService(broker: Broker) {
  return implement(GRPCBroker, {
    startStream(requests) {
      void (async () => {
        try {
          for await (const info of requests) broker.receive(info);
        } catch {
          // The host went away; the broker closes with the plugin.
        }
      })();
      return broker.outgoing;
    },
  });
}
