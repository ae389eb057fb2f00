package main

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/status"

	"plugwire.dev/interop/gen/fixturepb"
)

// fixtureServer implements plugwire.fixture.Fixture. It counts the handler calls that saw their
// context end (deadline or cancel), so a host can check that cancellation crossed the wire.
type fixtureServer struct {
	fixturepb.UnimplementedFixtureServer

	// Sleep logs "Sleep started" through it: a host that cancels a Sleep waits for that line, so
	// its cancel cannot land before the request reaches the handler.
	logger hclog.Logger

	mu         sync.Mutex
	cancelled  uint32
	lastReason string
}

// noteCancelled records that a handler gave up because ctx ended, and returns the gRPC status
// error matching ctx.Err() (Canceled or DeadlineExceeded).
func (f *fixtureServer) noteCancelled(ctx context.Context) error {
	f.mu.Lock()
	f.cancelled++
	f.lastReason = ctx.Err().Error()
	f.mu.Unlock()
	return status.FromContextError(ctx.Err()).Err()
}

func (f *fixtureServer) Sleep(ctx context.Context, req *fixturepb.SleepRequest) (*fixturepb.SleepResponse, error) {
	f.logger.Debug("Sleep started", "duration_ms", req.GetDurationMs())
	resp := &fixturepb.SleepResponse{}
	if deadline, ok := ctx.Deadline(); ok {
		resp.DeadlineRemainingMs = uint32(max(time.Until(deadline).Milliseconds(), 0))
	}
	timer := time.NewTimer(time.Duration(req.GetDurationMs()) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
		return resp, nil
	case <-ctx.Done():
		return nil, f.noteCancelled(ctx)
	}
}

func (f *fixtureServer) Count(req *fixturepb.CountRequest, stream fixturepb.Fixture_CountServer) error {
	for i := range req.GetN() {
		if err := stream.Context().Err(); err != nil {
			return f.noteCancelled(stream.Context())
		}
		if err := stream.Send(&fixturepb.CountResponse{I: i}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fixtureServer) Sum(stream fixturepb.Fixture_SumServer) error {
	resp := &fixturepb.SumResponse{}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(resp)
		}
		if err != nil {
			return err
		}
		resp.Total += req.GetValue()
		resp.Count++
	}
}

func (f *fixtureServer) Echo(_ context.Context, msg *fixturepb.EchoMessage) (*fixturepb.EchoMessage, error) {
	return msg, nil
}

func (f *fixtureServer) EchoStream(stream fixturepb.Fixture_EchoStreamServer) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

func (f *fixtureServer) Cancelled(context.Context, *fixturepb.CancelledRequest) (*fixturepb.CancelledResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fixturepb.CancelledResponse{Cancelled: f.cancelled, LastReason: f.lastReason}, nil
}
