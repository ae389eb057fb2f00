// What host and plugin agree on, as in go-plugin's examples/bidirectional/shared.
import type { HandshakeConfig } from "plugwire/plugin";
import { Counter } from "./gen/counter_pb.js";

export const handshake: HandshakeConfig = {
  protocolVersion: 1,
  magicCookieKey: "BASIC_PLUGIN",
  magicCookieValue: "hello",
};

export const plugins = { counter: Counter } as const;
