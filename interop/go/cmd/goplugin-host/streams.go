package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/grpc"

	"plugwire.dev/interop/gen/fixturepb"
	"plugwire.dev/interop/gen/grpctestpb"
	"plugwire.dev/interop/internal/plugins"
)

func scenarioStream(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	result := map[string]any{}

	count, err := collectCount(ctx, tc.Fixture, 5)
	result["count"] = count
	if err != nil {
		return result, fmt.Errorf("Count: %w", err)
	}

	sum, err := sumStream(ctx, tc.Fixture, 10)
	if err != nil {
		return result, fmt.Errorf("Sum: %w", err)
	}
	result["sum"] = map[string]any{"total": sum.GetTotal(), "count": sum.GetCount()}

	echoed, err := echoStream(ctx, tc.Fixture, []string{"one", "two", "three"})
	result["echoStream"] = echoed
	if err != nil {
		return result, fmt.Errorf("EchoStream: %w", err)
	}

	outputs, err := testStream(ctx, tc.Test, 21, 27)
	result["testStream"] = outputs
	if err != nil {
		return result, fmt.Errorf("Test.Stream: %w", err)
	}

	switch {
	case !slices.Equal(count, []uint32{0, 1, 2, 3, 4}):
		return result, fmt.Errorf("Count(5) = %v", count)
	case sum.GetTotal() != 55 || sum.GetCount() != 10:
		return result, fmt.Errorf("Sum(1..10) = %d over %d values", sum.GetTotal(), sum.GetCount())
	case !slices.Equal(echoed, []string{"one", "two", "three"}):
		return result, fmt.Errorf("EchoStream = %q", echoed)
	case !slices.Equal(outputs, []int32{21, 22, 23, 24, 25, 26}):
		return result, fmt.Errorf("Test.Stream(21..26) = %v", outputs)
	}
	return result, nil
}

func collectCount(ctx context.Context, fx fixturepb.FixtureClient, n uint32) ([]uint32, error) {
	stream, err := fx.Count(ctx, &fixturepb.CountRequest{N: n})
	if err != nil {
		return nil, err
	}
	out := []uint32{}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, resp.GetI())
	}
}

func sumStream(ctx context.Context, fx fixturepb.FixtureClient, upTo int64) (*fixturepb.SumResponse, error) {
	stream, err := fx.Sum(ctx)
	if err != nil {
		return nil, err
	}
	for v := int64(1); v <= upTo; v++ {
		if err := stream.Send(&fixturepb.SumRequest{Value: v}); err != nil {
			return nil, err
		}
	}
	return stream.CloseAndRecv()
}

// echoStream sends each message and waits for its echo before the next (lock-step).
func echoStream(ctx context.Context, fx fixturepb.FixtureClient, msgs []string) ([]string, error) {
	stream, err := fx.EchoStream(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, m := range msgs {
		if err := stream.Send(&fixturepb.EchoMessage{Payload: []byte(m)}); err != nil {
			return out, err
		}
		resp, err := stream.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, string(resp.GetPayload()))
	}
	if err := stream.CloseSend(); err != nil {
		return out, err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return out, fmt.Errorf("after CloseSend: got %v, want EOF", err)
	}
	return out, nil
}

// testStream is go-plugin's own Test.Stream check: send [start, stop) and collect the echoes.
func testStream(ctx context.Context, tc grpctestpb.TestClient, start, stop int32) ([]int32, error) {
	stream, err := tc.Stream(ctx)
	if err != nil {
		return nil, err
	}
	out := []int32{}
	for i := start; i < stop; i++ {
		if err := stream.Send(&grpctestpb.TestRequest{Input: i}); err != nil {
			return out, err
		}
		resp, err := stream.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, resp.GetOutput())
	}
	return out, stream.CloseSend()
}

func scenarioBidirectional(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	hostID := tc.Broker.NextId()
	result := map[string]any{"hostServedId": hostID}
	err = plugins.ServeBrokered(ctx, tc.Broker, hostID, func(srv *grpc.Server) {
		grpctestpb.RegisterPingPongServer(srv, pingPongServer{})
	})
	if err != nil {
		return result, fmt.Errorf("AcceptAndServe: %w", err)
	}

	resp, err := tc.Test.Bidirectional(ctx, &grpctestpb.BidirectionalRequest{Id: hostID})
	if err != nil {
		return result, fmt.Errorf("Bidirectional: %w", err)
	}
	result["pluginServedId"] = resp.GetId()

	conn, err := tc.Broker.Dial(resp.GetId())
	if err != nil {
		return result, fmt.Errorf("broker Dial(%d): %w", resp.GetId(), err)
	}
	defer conn.Close()
	pong, err := grpctestpb.NewPingPongClient(conn).Ping(ctx, &grpctestpb.PingRequest{})
	if err != nil {
		return result, fmt.Errorf("Ping over brokered connection: %w", err)
	}
	result["pong"] = pong.GetMsg()
	if pong.GetMsg() != "pong" {
		return result, fmt.Errorf("brokered Ping = %q, want %q", pong.GetMsg(), "pong")
	}
	return result, nil
}
