// The Iglu interface of the "Reliable Plugins in Go" post (its `sdk` package), declared once for
// TypeScript hosts and plugins: the same Go types as interop/go/cmd/iglu-plugin/sdk, so either
// side may be Go.
import { gob, netrpc } from "plugwire/rpc";

const { go } = gob;

/** The post's handshake config. */
export const handshake = {
  magicCookieKey: "IGLU_PLUGIN",
  magicCookieValue: "MzlK0OGpIRs",
  protocolVersion: 1,
};

/** sdk.PluginManifest: the post's Id, Name, Author, Version, plus a description and capabilities. */
export const PluginManifest = go.struct("sdk.PluginManifest", {
  Id: go.string,
  Name: go.string,
  Author: go.string,
  Version: go.string,
  Description: go.string,
  Capabilities: go.slice(go.string),
});

/** `GetManifest(args interface{}, resp *GetManifestReply) error` on the wire. */
export const Iglu = netrpc.define({
  GetManifest: {
    args: go.interface,
    reply: go.struct("sdk.GetManifestReply", { Manifest: PluginManifest }),
  },
});

/** The host's plugin map: the post's `iglu_plugin`. */
export const plugins = { iglu_plugin: Iglu } as const;
