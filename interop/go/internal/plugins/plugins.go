// Package plugins holds the go-plugin plugin definitions that the interop host and plugin share.
//
// In gRPC mode plugin names never travel on the wire: the plugin registers every service of the
// negotiated set on its one server, and the host's Dispense only wraps the shared connection in a
// client. So one definition serves both binaries: the plugin fills in Register, the host leaves
// it nil and only calls GRPCClient.
package plugins

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"plugwire.dev/interop/gen/fixturepb"
	"plugwire.dev/interop/gen/grpctestpb"
	"plugwire.dev/interop/gen/kvpb"
)

// Plugin names, as used in PluginSets (host and plugin side alike).
const (
	KVName   = "kv"
	TestName = "test"
)

// DefaultCookie returns the magic cookie a mode uses unless overridden: go-plugin's KV example
// cookie for "kv" and go-plugin's test-suite cookie for "test".
func DefaultCookie(mode string) (key, value string) {
	if mode == TestName {
		return "TEST_MAGIC_COOKIE", "test"
	}
	return "BASIC_PLUGIN", "hello"
}

// ParseVersions parses a comma-separated list of app protocol versions such as "5,6".
func ParseVersions(list string) ([]int, error) {
	var out []int
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		v, err := strconv.Atoi(field)
		if err != nil {
			return nil, fmt.Errorf("invalid version %q in %q", field, list)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("no versions given")
	}
	return out, nil
}

// Versioned gives every version the same plugin set, built fresh per version.
func Versioned(versions []int, set func() plugin.PluginSet) map[int]plugin.PluginSet {
	out := make(map[int]plugin.PluginSet, len(versions))
	for _, v := range versions {
		out[v] = set()
	}
	return out
}

// HostSet is the host's plugin set: both names, client side only.
func HostSet() plugin.PluginSet {
	return plugin.PluginSet{KVName: &KV{}, TestName: &Test{}}
}

// KV is the proto.KV service of go-plugin's examples/grpc.
type KV struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the implementation; plugin side only.
	Impl kvpb.KVServer
}

// GRPCServer registers proto.KV.
func (p *KV) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("kv plugin has no implementation")
	}
	kvpb.RegisterKVServer(s, p.Impl)
	return nil
}

// GRPCClient returns a kvpb.KVClient.
func (p *KV) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return kvpb.NewKVClient(c), nil
}

// Test is go-plugin's grpctest services plus plugwire's Fixture service, all on one server.
type Test struct {
	plugin.NetRPCUnsupportedPlugin
	// Register adds the services to the plugin's server; plugin side only. It gets the broker
	// because Test.Bidirectional dials and serves brokered connections.
	Register func(*plugin.GRPCBroker, *grpc.Server)
}

// GRPCServer registers the services through Register.
func (p *Test) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Register == nil {
		return errors.New("test plugin has no implementation")
	}
	p.Register(b, s)
	return nil
}

// GRPCClient returns *TestClients.
func (p *Test) GRPCClient(_ context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &TestClients{
		Test:     grpctestpb.NewTestClient(c),
		PingPong: grpctestpb.NewPingPongClient(c),
		Fixture:  fixturepb.NewFixtureClient(c),
		Broker:   b,
	}, nil
}

// TestClients is what the host gets from Dispense("test").
type TestClients struct {
	Test     grpctestpb.TestClient
	PingPong grpctestpb.PingPongClient
	Fixture  fixturepb.FixtureClient
	Broker   *plugin.GRPCBroker
}

// ServeBrokered serves a gRPC server on broker ID id in the background, like
// GRPCBroker.AcceptAndServe, but returns only once the broker accepts connections for id.
//
// Why: go-plugin's multiplexed broker (GRPCBrokerMultiplex) handles a knock for an ID whose
// listener is not registered yet by failing the dial (host side: "no listener for id N"; plugin
// side: it closes the stream and its main listener's Accept fails). AcceptAndServe registers the
// listener before it calls the server factory, so the factory call is the readiness signal, and
// handing the ID to the peer only after it keeps the harness free of that race.
func ServeBrokered(ctx context.Context, b *plugin.GRPCBroker, id uint32, register func(*grpc.Server)) error {
	ready := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			srv := grpc.NewServer(opts...)
			register(srv)
			close(ready)
			return srv
		})
	}()
	select {
	case <-ready:
		return nil
	case <-stopped:
		return fmt.Errorf("broker could not accept on id %d", id)
	case <-ctx.Done():
		return ctx.Err()
	}
}
