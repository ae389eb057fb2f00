// Package sdk is the Iglu interface library of the "Reliable Plugins in Go" post (the seed): the
// handshake, the Iglu interface with GetManifest, and go-plugin's net/rpc boilerplate for it
// (IgluPlugin's Server and Client, IgluRPC and IgluRPCServer). iglu-host and iglu-plugin import
// it, as the post's Host and Plugin import `sdk`; plugwire's TypeScript side declares the same
// types in examples/netrpc/iglu/iglu.ts.
package sdk

import (
	"net/rpc"

	"github.com/hashicorp/go-plugin"
)

// Handshake is the post's handshake config, shared by host and plugins.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "IGLU_PLUGIN",
	MagicCookieValue: "MzlK0OGpIRs",
}

// PluginName is the plugin's name in both sides' plugin maps.
const PluginName = "iglu_plugin"

// PluginManifest describes a plugin: the post's Id, Name, Author and Version, plus a description
// and the capabilities the plugin offers.
type PluginManifest struct {
	Id, Name, Author, Version string
	Description               string
	Capabilities              []string
}

// GetManifestReply is GetManifest's reply on the wire.
type GetManifestReply struct {
	Manifest PluginManifest
}

// Iglu is the interface the plugins implement.
type Iglu interface {
	GetManifest() PluginManifest
}

// IgluPlugin is the plugin.Plugin of the interface: Impl is set on the plugin side.
type IgluPlugin struct {
	Impl Iglu
}

// Server is the object served as "Plugin" on the dispensed stream.
func (p *IgluPlugin) Server(*plugin.MuxBroker) (interface{}, error) {
	return &IgluRPCServer{Impl: p.Impl}, nil
}

// Client is what the host gets from Dispense.
func (IgluPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return &IgluRPC{client: c}, nil
}

// IgluRPC is what the host uses to talk to the plugin.
type IgluRPC struct {
	client *rpc.Client
}

// GetManifest calls the plugin. Unlike the post's version, which panics, it returns the error:
// a host that detects crashes must see a failed call as a value.
func (i *IgluRPC) GetManifest() (PluginManifest, error) {
	rep := GetManifestReply{}
	err := i.client.Call("Plugin.GetManifest", new(interface{}), &rep)
	return rep.Manifest, err
}

// IgluRPCServer is the plugin side: it passes the implementation's answer back to the host.
type IgluRPCServer struct {
	Impl Iglu
}

// GetManifest is Plugin.GetManifest.
func (s *IgluRPCServer) GetManifest(args interface{}, resp *GetManifestReply) error {
	resp.Manifest = s.Impl.GetManifest()
	return nil
}
