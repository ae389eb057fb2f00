// Command goplugin-plugin is a real go-plugin (v1.8.0) plugin for plugwire's interop tests.
//
// Mode "kv" behaves exactly like go-plugin's examples/grpc/plugin-go-grpc; mode "test" serves
// go-plugin's grpctest services plus plugwire's Fixture service. See ../../README.md.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"plugwire.dev/interop/internal/plugins"
)

func main() {
	mode := flag.String("mode", plugins.KVName, "plugin to serve: kv or test")
	cookieKey := flag.String("cookie-key", "", "magic cookie key (default depends on -mode)")
	cookieValue := flag.String("cookie-value", "", "magic cookie value (default depends on -mode)")
	versionList := flag.String("versions", "1", "comma-separated app protocol versions to offer")
	flag.Parse()

	// Usage errors go to stderr and exit 2, like any flag error; the host then sees no handshake.
	versions, err := plugins.ParseVersions(*versionList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goplugin-plugin:", err)
		os.Exit(2)
	}
	// Defaults apply only to flags not given: an explicitly empty cookie exercises go-plugin's
	// "Misconfigured ServeConfig" path.
	key, value := plugins.DefaultCookie(*mode)
	flag.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "cookie-key":
			key = *cookieKey
		case "cookie-value":
			value = *cookieValue
		}
	})

	// Created before Serve, so it keeps the real stderr even after go-plugin swaps os.Stderr for
	// the GRPCStdio pipe: log lines must reach the host's log parser, not SyncStderr.
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})

	var set func() plugin.PluginSet
	switch *mode {
	case plugins.KVName:
		set = func() plugin.PluginSet {
			return plugin.PluginSet{plugins.KVName: &plugins.KV{Impl: &kvServer{}}}
		}
	case plugins.TestName:
		// One fixture instance across versions: its cancellation counter is process-wide.
		fx := &fixtureServer{logger: logger}
		set = func() plugin.PluginSet {
			return plugin.PluginSet{plugins.TestName: &plugins.Test{
				Register: func(b *plugin.GRPCBroker, s *grpc.Server) { registerTest(s, b, logger, fx) },
			}}
		}
	default:
		fmt.Fprintf(os.Stderr, "goplugin-plugin: unknown -mode %q (want kv or test)\n", *mode)
		os.Exit(2)
	}

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  plugin.HandshakeConfig{MagicCookieKey: key, MagicCookieValue: value},
		VersionedPlugins: plugins.Versioned(versions, set),
		GRPCServer:       grpcServer,
		Logger:           logger,
	})
}

// grpcServer is plugin.DefaultGRPCServer with grpc-go's 4 MiB receive limit lifted, so the
// large-message scenarios measure the transport rather than hit the default cap. Go hosts
// already allow math.MaxInt32 in both directions.
func grpcServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(math.MaxInt32), grpc.MaxSendMsgSize(math.MaxInt32))
	return plugin.DefaultGRPCServer(opts)
}
