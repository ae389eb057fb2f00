import type { HandshakeConfig } from "plugwire/plugin";

/**
 * What host and plugin agree on before anything else. The cookie is not a secret: it stops a
 * user from running the plugin by hand. Raise `protocolVersion` when the proto changes
 * incompatibly.
 */
export const handshake: HandshakeConfig = {
  magicCookieKey: "{{cookieKey}}",
  magicCookieValue: "{{cookieValue}}",
  protocolVersion: 1,
};
