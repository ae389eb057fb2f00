package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"plugwire.dev/interop/gen/fixturepb"
	"plugwire.dev/interop/gen/grpctestpb"
	"plugwire.dev/interop/gen/kvpb"
	"plugwire.dev/interop/internal/plugins"
)

// A scenario runs against a started session. It returns its result even when a check fails,
// so the report shows what was observed; the error makes the report ok:false.
type scenarioFunc func(ctx context.Context, s *session) (any, error)

var scenarios = map[string]scenarioFunc{
	"kv":               scenarioKV,
	"double":           scenarioDouble,
	"ping":             scenarioPing,
	"stdio":            scenarioStdio,
	"logs":             scenarioLogs,
	"negotiate":        scenarioNegotiate,
	"shutdown":         scenarioShutdown,
	"deadline":         scenarioDeadline,
	"cancel":           scenarioCancel,
	"stream":           scenarioStream,
	"bidirectional":    scenarioBidirectional,
	"panic":            scenarioPanic,
	"bench-unary":      benchUnary,
	"bench-throughput": benchThroughput,
	"bench-large":      benchLarge,
	"bench-stream":     benchStream,
	"bench-start":      benchStart,
}

// outputWait bounds how long we poll for asynchronously delivered output (stdio, logs).
const outputWait = 5 * time.Second

func scenarioKV(ctx context.Context, s *session) (any, error) {
	kv, err := s.kvClient()
	if err != nil {
		return nil, err
	}
	if _, err := kv.Put(ctx, &kvpb.PutRequest{Key: "hello", Value: []byte("world")}); err != nil {
		return nil, fmt.Errorf("Put: %w", err)
	}
	resp, err := kv.Get(ctx, &kvpb.GetRequest{Key: "hello"})
	if err != nil {
		return nil, fmt.Errorf("Get: %w", err)
	}
	return map[string]any{"value": string(resp.GetValue())}, nil
}

func scenarioDouble(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	resp, err := tc.Test.Double(ctx, &grpctestpb.TestRequest{Input: 21})
	if err != nil {
		return nil, fmt.Errorf("Double: %w", err)
	}
	result := map[string]any{"output": resp.GetOutput()}
	if resp.GetOutput() != 42 {
		return result, fmt.Errorf("Double(21) = %d, want 42", resp.GetOutput())
	}
	return result, nil
}

func scenarioPing(_ context.Context, s *session) (any, error) {
	before := s.rpc.Ping()
	s.kill()
	after := s.rpc.Ping()
	result := map[string]any{
		"beforeOk": before == nil, "beforeError": errText(before),
		"afterOk": after == nil, "afterError": errText(after),
	}
	switch {
	case before != nil:
		return result, fmt.Errorf("Ping before Kill: %w", before)
	case after == nil:
		return result, errors.New("Ping after Kill succeeded")
	}
	return result, nil
}

func scenarioStdio(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	const wantOut, wantErr = "out-bytes\n", "err-bytes\n"
	_, err = tc.Test.PrintStdio(ctx, &grpctestpb.PrintStdioRequest{
		Stdout: []byte(wantOut), Stderr: []byte(wantErr),
	})
	if err != nil {
		return nil, fmt.Errorf("PrintStdio: %w", err)
	}
	seen := waitFor(ctx, outputWait, func() bool {
		return strings.Contains(s.stdout.String(), wantOut) && strings.Contains(s.stderr.String(), wantErr)
	})
	result := map[string]any{"stdout": s.stdout.String(), "stderr": s.stderr.String()}
	if !seen {
		return result, fmt.Errorf("stdio data not delivered within %s", outputWait)
	}
	return result, nil
}

func scenarioLogs(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	calls := []*grpctestpb.PrintKVRequest{
		{Key: "foo", Value: &grpctestpb.PrintKVRequest_ValueString{ValueString: "bar"}},
		{Key: "answer", Value: &grpctestpb.PrintKVRequest_ValueInt{ValueInt: 42}},
		{Key: "quote", Value: &grpctestpb.PrintKVRequest_ValueString{ValueString: `say "hi"`}},
	}
	for _, req := range calls {
		if _, err := tc.Test.PrintKV(ctx, req); err != nil {
			return nil, fmt.Errorf("PrintKV(%s): %w", req.GetKey(), err)
		}
	}
	// The plugin's log lines reach the host logger through its stderr reader, asynchronously.
	var entries []map[string]any
	seen := waitFor(ctx, outputWait, func() bool {
		entries = findLog(logEntries(s.hostLog.String()), "PrintKV called")
		return len(entries) >= len(calls)
	})
	result := map[string]any{"entries": entries}
	if !seen {
		return result, fmt.Errorf("%d of %d PrintKV log lines reached the host log", len(entries), len(calls))
	}
	return result, nil
}

func scenarioNegotiate(context.Context, *session) (any, error) {
	// negotiatedVersion and protocol are top-level report fields; nothing else to do.
	return map[string]any{}, nil
}

func scenarioShutdown(_ context.Context, s *session) (any, error) {
	// Make sure the connection is up, so Kill exercises a live GRPCController.Shutdown.
	if err := s.rpc.Ping(); err != nil {
		return nil, fmt.Errorf("Ping: %w", err)
	}
	s.kill()
	entries := logEntries(s.hostLog.String())
	result := map[string]any{
		"killMs":   ms(s.killDur),
		"exited":   s.client.Exited(),
		"graceful": len(findLog(entries, "plugin exited")) > 0,
		"forced":   len(findLog(entries, "plugin failed to exit gracefully")) > 0,
	}
	// "plugin process exited" is INFO for exit status 0, ERROR with error= otherwise.
	if exits := findLog(entries, "plugin process exited"); len(exits) > 0 {
		result["processExitLevel"] = exits[0]["@level"]
		result["processExitError"] = exits[0]["error"]
	}
	if !s.client.Exited() {
		return result, errors.New("plugin process has not exited after Kill")
	}
	return result, nil
}

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

	callCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	return res, sleepUntilAborted(ctx, callCtx, tc.Fixture, res, "DeadlineExceeded")
}

func scenarioCancel(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	res := &deadlineResult{}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(200*time.Millisecond, cancel)
	defer timer.Stop()
	return res, sleepUntilAborted(ctx, callCtx, tc.Fixture, res, "Canceled")
}

// sleepUntilAborted calls Sleep(2000 ms) with callCtx, which ends early, then polls Cancelled
// until the plugin's handler has noticed. The handler's reason text is reported, not checked:
// it is implementation-specific (a Go handler usually sees "context canceled" even for a
// deadline, because the client's RST_STREAM beats the server-side timer).
func sleepUntilAborted(ctx, callCtx context.Context, fx fixturepb.FixtureClient, res *deadlineResult, wantCode string) error {
	before, err := fx.Cancelled(ctx, &fixturepb.CancelledRequest{})
	if err != nil {
		return fmt.Errorf("Cancelled: %w", err)
	}
	t0 := time.Now()
	_, err = fx.Sleep(callCtx, &fixturepb.SleepRequest{DurationMs: 2000})
	res.ElapsedMs = ms(time.Since(t0))
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

// scenarioPanic asks the plugin to panic: the call must fail and the host must log the
// plugin's "panic: <message>" stderr line at ERROR (go-plugin >= 1.7 panic handling).
func scenarioPanic(ctx context.Context, s *session) (any, error) {
	tc, err := s.testClients()
	if err != nil {
		return nil, err
	}
	_, callErr := tc.Test.Panic(ctx, &grpctestpb.PanicRequest{Message: "interop panic"})
	st := status.Convert(callErr)
	result := map[string]any{"code": st.Code().String(), "message": st.Message()}
	if callErr == nil {
		return result, errors.New("Panic call succeeded")
	}
	// The panic line arrives through the stderr reader; wait for it, and for the process exit.
	var entry map[string]any
	waitFor(ctx, outputWait, func() bool {
		for _, e := range logEntries(s.hostLog.String()) {
			if e["@message"] == "panic: interop panic" {
				entry = e
			}
		}
		return entry != nil && s.client.Exited()
	})
	result["panicLogged"] = entry != nil
	if entry != nil {
		result["panicLevel"] = entry["@level"]
	}
	result["exited"] = s.client.Exited()
	if entry == nil {
		return result, errors.New(`host log has no "panic: interop panic" entry`)
	}
	return result, nil
}

type pingPongServer struct {
	grpctestpb.UnimplementedPingPongServer
}

func (pingPongServer) Ping(context.Context, *grpctestpb.PingRequest) (*grpctestpb.PongResponse, error) {
	return &grpctestpb.PongResponse{Msg: "pong"}, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
