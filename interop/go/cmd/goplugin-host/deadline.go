package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/status"

	"plugwire.dev/interop/gen/fixturepb"
)

// deadlineResult is shared by the deadline and cancel scenarios.
type deadlineResult struct {
	Code                string  `json:"code"`
	Message             string  `json:"message"`
	ElapsedMs           float64 `json:"elapsedMs"`
	HandlerCancelled    uint32  `json:"handlerCancelled"`
	HandlerLastReason   string  `json:"handlerLastReason"`
	DeadlineRemainingMs uint32  `json:"deadlineRemainingMs,omitempty"`
}

func scenarioDeadline(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	res := &deadlineResult{}
	// First show that the deadline itself crosses the wire (grpc-timeout header).
	probeCtx, cancel := context.WithTimeout(ctx, time.Second)
	probe, err := tc.Fixture.Sleep(probeCtx, &fixturepb.SleepRequest{DurationMs: 0})
	cancel()
	if err != nil {
		return res, fmt.Errorf("Sleep(0) with a 1 s deadline: %w", err)
	}
	res.DeadlineRemainingMs = probe.GetDeadlineRemainingMs()

	// Taken before the deadline is set, so the elapsed time cannot come out below 300 ms however
	// long the Cancelled call inside the deadline takes.
	started := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	return res, sleepUntilAborted(ctx, callCtx, started, tc.Fixture, res, "DeadlineExceeded")
}

// longDeadline is longer than Node's largest timer (2^31-1 ms, about 24.8 days): grpc-go sends
// it as "2592000S", and a plugin that armed a plain timer with it would abort the call at once.
const longDeadline = 30 * 24 * time.Hour

// scenarioLongDeadline calls Sleep(200 ms) with a 30-day deadline: it must succeed, and the
// handler must have seen about 30 days left. The scenario's own bound still cancels the call.
func scenarioLongDeadline(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	res := &deadlineResult{}
	// context.WithTimeout(ctx, …) would keep ctx's shorter deadline; drop it, keep its cancel.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), longDeadline)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	t0 := time.Now()
	resp, err := tc.Fixture.Sleep(callCtx, &fixturepb.SleepRequest{DurationMs: 200})
	res.ElapsedMs = ms(time.Since(t0))
	if err != nil {
		st := status.Convert(err)
		res.Code, res.Message = st.Code().String(), st.Message()
		return res, fmt.Errorf("Sleep(200 ms) with a 30-day deadline: %w", err)
	}
	res.Code = "OK"
	res.DeadlineRemainingMs = resp.GetDeadlineRemainingMs()
	if left := time.Duration(res.DeadlineRemainingMs) * time.Millisecond; left < longDeadline-time.Minute {
		return res, fmt.Errorf("the handler saw %s left, want about %s", left, longDeadline)
	}
	return res, nil
}

func scenarioCancel(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	res := &deadlineResult{}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// As for the deadline: counted from before the cancel timer is armed.
	started := time.Now()
	timer := time.AfterFunc(200*time.Millisecond, cancel)
	defer timer.Stop()
	return res, sleepUntilAborted(ctx, callCtx, started, tc.Fixture, res, "Canceled")
}

// sleepUntilAborted calls Sleep(2000 ms) with callCtx, which ends early, then polls Cancelled
// until the plugin's handler has noticed. ElapsedMs counts from started, when callCtx's deadline
// or cancel timer began: a Cancelled call runs first, inside that time, and timing the Sleep
// alone would leave out however long it took (under load, enough to end below the floor the
// harness test asserts). The handler's reason text is reported, not checked:
// it is implementation-specific (a Go handler usually sees "context canceled" even for a
// deadline, because the client's RST_STREAM beats the server-side timer).
func sleepUntilAborted(ctx, callCtx context.Context, started time.Time, fx fixturepb.FixtureClient, res *deadlineResult, wantCode string) error {
	before, err := fx.Cancelled(ctx, &fixturepb.CancelledRequest{})
	if err != nil {
		return fmt.Errorf("Cancelled: %w", err)
	}
	_, err = fx.Sleep(callCtx, &fixturepb.SleepRequest{DurationMs: 2000})
	res.ElapsedMs = ms(time.Since(started))
	st := status.Convert(err)
	res.Code, res.Message = st.Code().String(), st.Message()
	if err == nil {
		return errors.New("Sleep(2000 ms) succeeded despite the shorter deadline/cancel")
	}

	// The handler sees the cancellation on its own schedule; poll rather than guess.
	var after *fixturepb.CancelledResponse
	waitFor(ctx, outputWait, func() bool {
		after, err = fx.Cancelled(ctx, &fixturepb.CancelledRequest{})
		return err == nil && after.GetCancelled() > before.GetCancelled()
	})
	if err != nil {
		return fmt.Errorf("Cancelled: %w", err)
	}
	res.HandlerCancelled = after.GetCancelled() - before.GetCancelled()
	res.HandlerLastReason = after.GetLastReason()
	switch {
	case res.Code != wantCode:
		return fmt.Errorf("Sleep ended with %s, want %s", res.Code, wantCode)
	case res.HandlerCancelled == 0:
		return fmt.Errorf("plugin handler did not see the call end within %s", outputWait)
	}
	return nil
}
