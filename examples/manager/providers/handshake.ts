/** The handshake of the example provider plugins (scafctl's is SCAFCTL_PLUGIN). */
export const providerHandshake = {
  magicCookieKey: "PLUGWIRE_EXAMPLE_PROVIDER",
  magicCookieValue: "provider_plugin",
  protocolVersion: 1,
};
