package netrpctest

import (
	"context"
	"sync"

	"plugwire.dev/interop/gen/kvpb"
)

// MemoryKV is a gRPC proto.KV in memory: the gRPC set that netrpc-plugin serves beside the
// net/rpc tester for versions that speak gRPC (version negotiation across protocols).
type MemoryKV struct {
	kvpb.UnimplementedKVServer
	mu     sync.Mutex
	values map[string][]byte
}

// Get returns the value put under the key ("" when none).
func (m *MemoryKV) Get(_ context.Context, r *kvpb.GetRequest) (*kvpb.GetResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &kvpb.GetResponse{Value: m.values[r.GetKey()]}, nil
}

// Put stores the value.
func (m *MemoryKV) Put(_ context.Context, r *kvpb.PutRequest) (*kvpb.Empty, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = map[string][]byte{}
	}
	m.values[r.GetKey()] = r.GetValue()
	return &kvpb.Empty{}, nil
}
