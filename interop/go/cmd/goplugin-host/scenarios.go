package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	"plugwire.dev/interop/gen/grpctestpb"
	"plugwire.dev/interop/gen/kvpb"
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
	"long-deadline":    scenarioLongDeadline,
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
	result["processExitLevel"], result["processExitError"] = "", ""
	if exits := findLog(entries, "plugin process exited"); len(exits) > 0 {
		result["processExitLevel"] = exits[0]["@level"]
		if e, ok := exits[0]["error"].(string); ok {
			result["processExitError"] = e
		}
	}
	if !s.client.Exited() {
		return result, errors.New("plugin process has not exited after Kill")
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
