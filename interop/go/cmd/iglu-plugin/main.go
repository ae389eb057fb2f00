// Command iglu-plugin is the post's AmazingPlugin (the "Reliable Plugins in Go" seed): a go-plugin
// v1.8.0 plugin on the net/rpc protocol serving sdk.Iglu. -id and -name change its manifest, so
// one binary can stand for several plugins in a plugin folder.
package main

import (
	"flag"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/cmd/iglu-plugin/sdk"
)

// AmazingPlugin implements sdk.Iglu.
type AmazingPlugin struct {
	manifest sdk.PluginManifest
}

// GetManifest answers the plugin's manifest.
func (g *AmazingPlugin) GetManifest() sdk.PluginManifest {
	return g.manifest
}

func main() {
	id := flag.String("id", "amazing", "the manifest's Id")
	name := flag.String("name", "Amazing Plugin", "the manifest's Name")
	flag.Parse()
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	amazing := &AmazingPlugin{manifest: sdk.PluginManifest{
		Id:           *id,
		Name:         *name,
		Author:       "Someone Amazing",
		Version:      "v0.1.0",
		Description:  "the post's AmazingPlugin, in Go",
		Capabilities: []string{"manifest", "go"},
	}}
	logger.Debug("plugin started", "id", *id)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins:         map[string]plugin.Plugin{sdk.PluginName: &sdk.IgluPlugin{Impl: amazing}},
	})
}
