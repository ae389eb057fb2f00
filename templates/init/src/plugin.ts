// The plugin: a process that serves the Greeter service to any plugwire or go-plugin host.
import { createPluginLogger, implement, serve } from "plugwire/plugin";
import { Greeter } from "./gen/greeter/v1/greeter_pb.js";
import { greeter } from "./greeter.ts";
import { handshake } from "./handshake.ts";

const logger = createPluginLogger({ name: "greeter" });
logger.info("greeter plugin starting");
await serve({ handshake, services: [implement(Greeter, greeter)], logger });
