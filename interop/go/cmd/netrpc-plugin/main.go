// Command netrpc-plugin is a real go-plugin (v1.8.0) plugin on go-plugin's net/rpc protocol for
// plugwire's interop tests: it serves netrpctest.Tester ("tester") for the versions of
// -versions, and a gRPC proto.KV ("kv") for those of -grpc-versions, so a host's version choice
// also chooses the protocol (go-plugin's examples/negotiated). See ../../README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/rpc"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/internal/netrpctest"
	"plugwire.dev/interop/internal/plugins"
)

func main() {
	versionList := flag.String("versions", "1", "versions served over net/rpc (tester)")
	grpcList := flag.String("grpc-versions", "", "versions served over gRPC (kv)")
	flag.Parse()

	// Created before Serve, so it keeps the real stderr after go-plugin swaps os.Stderr for the
	// stderr stream: log lines reach the host's log parser, Print's output the host's SyncStderr.
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	versioned := map[int]plugin.PluginSet{}
	netrpcVersions, err := plugins.ParseVersions(*versionList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netrpc-plugin:", err)
		os.Exit(2)
	}
	for _, v := range netrpcVersions {
		versioned[v] = plugin.PluginSet{netrpctest.Name: &netrpctest.Plugin{
			Impl: func(b *plugin.MuxBroker) any { return &tester{broker: b, logger: logger} },
		}}
	}
	if strings.TrimSpace(*grpcList) != "" {
		grpcVersions, err := plugins.ParseVersions(*grpcList)
		if err != nil {
			fmt.Fprintln(os.Stderr, "netrpc-plugin:", err)
			os.Exit(2)
		}
		for _, v := range grpcVersions {
			versioned[v] = plugin.PluginSet{plugins.KVName: &plugins.KV{Impl: &netrpctest.MemoryKV{}}}
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  netrpctest.Handshake,
		VersionedPlugins: versioned,
		// Needed for the gRPC versions; the tester's sets still select net/rpc (it is no GRPCPlugin).
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}

// tester is the net/rpc server object of one dispense.
type tester struct {
	broker *plugin.MuxBroker
	logger hclog.Logger
}

func (t *tester) Double(n int, r *int) error {
	*r = 2 * n
	return nil
}

func (t *tester) Describe(p netrpctest.Person, c *netrpctest.Card) error {
	c.Text = fmt.Sprintf("%s (%d)", p.Name, p.Age)
	c.Letters = len(p.Name)
	c.Tags = append([]string{}, p.Tags...)
	if p.Address != nil {
		c.City = p.Address.City
	}
	best := -1.0
	for name, score := range p.Scores {
		if score > best || (score == best && name < c.Best) {
			best, c.Best = score, name
		}
	}
	return nil
}

func (t *tester) Fail(message string, _ *netrpctest.Empty) error {
	return errors.New(message)
}

// Print writes through os.Stdout and os.Stderr, which go-plugin has redirected into the
// connection's stdout and stderr streams.
func (t *tester) Print(o netrpctest.Output, _ *netrpctest.Empty) error {
	fmt.Fprint(os.Stdout, o.Stdout)
	fmt.Fprint(os.Stderr, o.Stderr)
	return nil
}

func (t *tester) Log(a netrpctest.LogArgs, _ *netrpctest.Empty) error {
	t.logger.Info(a.Message, a.Key, a.Value)
	return nil
}

// Crash exits in the middle of the call: the host's call must fail, not hang.
func (t *tester) Crash(code int, _ *netrpctest.Empty) error {
	os.Exit(code)
	return nil
}

func (t *tester) Sleep(ms int, r *int) error {
	t.logger.Debug("sleep started", "ms", ms)
	time.Sleep(time.Duration(ms) * time.Millisecond)
	*r = ms
	return nil
}

// AddVia dials the Adder the host serves under a.ID and calls it.
func (t *tester) AddVia(a netrpctest.CallbackArgs, r *int) error {
	conn, err := t.broker.Dial(a.ID)
	if err != nil {
		return err
	}
	client := rpc.NewClient(conn)
	defer func() { _ = client.Close() }()
	return client.Call("Plugin.Add", netrpctest.AddArgs{A: a.A, B: a.B}, r)
}

// ServeAdder serves an Adder under a fresh id of this side for the host to dial.
func (t *tester) ServeAdder(_ netrpctest.Empty, r *uint32) error {
	id := t.broker.NextId()
	go t.broker.AcceptAndServe(id, netrpctest.Adder{})
	*r = id
	return nil
}

func (t *tester) Pid(_ netrpctest.Empty, r *int) error {
	*r = os.Getpid()
	return nil
}
