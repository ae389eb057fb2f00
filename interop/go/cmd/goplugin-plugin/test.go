package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"plugwire.dev/interop/gen/fixturepb"
	"plugwire.dev/interop/gen/grpctestpb"
	"plugwire.dev/interop/internal/plugins"
)

// registerTest puts grpctest.Test, grpctest.PingPong and plugwire.fixture.Fixture on the
// plugin's server.
func registerTest(s *grpc.Server, b *plugin.GRPCBroker, logger hclog.Logger, fx *fixtureServer) {
	grpctestpb.RegisterTestServer(s, &testServer{broker: b, logger: logger})
	grpctestpb.RegisterPingPongServer(s, pingPongServer{})
	fixturepb.RegisterFixtureServer(s, fx)
}

// testServer mirrors the grpctest.Test implementation in go-plugin's own test suite.
type testServer struct {
	grpctestpb.UnimplementedTestServer
	broker *plugin.GRPCBroker
	logger hclog.Logger
}

func (*testServer) Double(_ context.Context, req *grpctestpb.TestRequest) (*grpctestpb.TestResponse, error) {
	return &grpctestpb.TestResponse{Output: req.GetInput() * 2}, nil
}

// PrintKV logs through the plugin's hclog logger, i.e. a JSON line on the real stderr that the
// host re-logs with the key as a field.
func (s *testServer) PrintKV(_ context.Context, req *grpctestpb.PrintKVRequest) (*grpctestpb.PrintKVResponse, error) {
	var value any
	switch v := req.GetValue().(type) {
	case *grpctestpb.PrintKVRequest_ValueString:
		value = v.ValueString
	case *grpctestpb.PrintKVRequest_ValueInt:
		value = v.ValueInt
	default:
		// go-plugin's test panics here; an error is kinder to a test run that sends bad input.
		return nil, fmt.Errorf("PrintKV: no value for key %q", req.GetKey())
	}
	s.logger.Info("PrintKV called", req.GetKey(), value)
	return &grpctestpb.PrintKVResponse{}, nil
}

// PrintStdio writes to os.Stdout/os.Stderr as they are at call time: go-plugin has replaced
// them with pipes feeding plugin.GRPCStdio, so the bytes reach the host's SyncStdout/SyncStderr.
func (*testServer) PrintStdio(_ context.Context, req *grpctestpb.PrintStdioRequest) (*emptypb.Empty, error) {
	if _, err := os.Stdout.Write(req.GetStdout()); err != nil {
		return nil, err
	}
	if _, err := os.Stderr.Write(req.GetStderr()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Panic crashes the whole plugin process on purpose (grpc-go does not recover handler panics),
// so the host sees "panic: <message>" and a stack trace on stderr and the call fails.
func (*testServer) Panic(_ context.Context, req *grpctestpb.PanicRequest) (*emptypb.Empty, error) {
	panic(req.GetMessage())
}

func (*testServer) Stream(stream grpctestpb.Test_StreamServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&grpctestpb.TestResponse{Output: req.GetInput()}); err != nil {
			return err
		}
	}
}

// Bidirectional proves the broker works both ways: dial the host-served PingPong named in the
// request, then serve our own PingPong on a fresh broker ID and hand that ID back.
func (s *testServer) Bidirectional(ctx context.Context, req *grpctestpb.BidirectionalRequest) (*grpctestpb.BidirectionalResponse, error) {
	conn, err := s.broker.Dial(req.GetId())
	if err != nil {
		return nil, fmt.Errorf("server dial error: %w", err)
	}
	defer conn.Close()

	resp, err := grpctestpb.NewPingPongClient(conn).Ping(ctx, &grpctestpb.PingRequest{})
	if err != nil {
		return nil, fmt.Errorf("server Ping() error: %w", err)
	}
	if resp.GetMsg() != "pong" {
		return nil, fmt.Errorf("server got %q from PingPong, want %q", resp.GetMsg(), "pong")
	}

	id := s.broker.NextId()
	err = plugins.ServeBrokered(ctx, s.broker, id, func(srv *grpc.Server) {
		grpctestpb.RegisterPingPongServer(srv, pingPongServer{})
	})
	if err != nil {
		return nil, fmt.Errorf("server AcceptAndServe error: %w", err)
	}
	return &grpctestpb.BidirectionalResponse{Id: id}, nil
}

type pingPongServer struct {
	grpctestpb.UnimplementedPingPongServer
}

func (pingPongServer) Ping(context.Context, *grpctestpb.PingRequest) (*grpctestpb.PongResponse, error) {
	return &grpctestpb.PongResponse{Msg: "pong"}, nil
}
