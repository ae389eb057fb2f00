package main

import (
	"context"
	"fmt"
	"os"

	"plugwire.dev/interop/gen/kvpb"
)

// kvServer stores each key in a file kv_<key> in the working directory, byte-for-byte like
// go-plugin's examples/grpc/plugin-go-grpc, so tests can compare against that example.
type kvServer struct {
	kvpb.UnimplementedKVServer
}

func (kvServer) Put(_ context.Context, req *kvpb.PutRequest) (*kvpb.Empty, error) {
	value := fmt.Sprintf("%s\n\nWritten from plugin-go-grpc", req.GetValue())
	return &kvpb.Empty{}, os.WriteFile("kv_"+req.GetKey(), []byte(value), 0o644)
}

func (kvServer) Get(_ context.Context, req *kvpb.GetRequest) (*kvpb.GetResponse, error) {
	value, err := os.ReadFile("kv_" + req.GetKey())
	return &kvpb.GetResponse{Value: value}, err
}
