package main

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/gen/kvpb"
	"plugwire.dev/interop/internal/netrpctest"
	"plugwire.dev/interop/internal/plugins"
)

type scenario func(ctx context.Context, s *session) (any, error)

var scenarios = map[string]scenario{
	"basic":     basic,
	"stdio":     stdio,
	"logs":      logs,
	"callback":  callback,
	"crash":     crash,
	"slow-kill": slowKill,
	"quit":      quit,
	"negotiate": negotiate,
	"reattach":  reattach,
	"ping":      ping,
}

// basic: structs in and out, an error return, a plain value, and Control.Ping.
func basic(_ context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	doubled, err := t.Double(21)
	if err != nil {
		return nil, err
	}
	card, err := t.Describe(netrpctest.Person{
		Name:    "Ada",
		Age:     36,
		Tags:    []string{"math", "engines"},
		Address: &netrpctest.Address{Street: "St James's Square", City: "London"},
		Scores:  map[string]float64{"analysis": 9.5, "poetry": 7},
	})
	if err != nil {
		return nil, err
	}
	failure := t.Fail("boom: the plugin said no")
	if failure == nil {
		return nil, errors.New("Fail returned no error")
	}
	pid, err := t.Pid()
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"double":   doubled,
		"card":     card,
		"failText": failure.Error(),
		"pid":      pid,
		"ping":     s.rpc.Ping() == nil,
	}, nil
}

// stdio: the plugin writes to its stdout and stderr; both arrive in SyncStdout/SyncStderr.
func stdio(ctx context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	if err := t.Print(netrpctest.Output{Stdout: "out-bytes\n", Stderr: "err-bytes\n"}); err != nil {
		return nil, err
	}
	arrived := waitFor(ctx, 5*time.Second, func() bool {
		return s.stdout.String() == "out-bytes\n" && s.stderr.String() == "err-bytes\n"
	})
	return map[string]any{"arrived": arrived}, nil
}

// logs: a plugin log line is mirrored into the host's logger with its key/value pair.
func logs(ctx context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	if err := t.Log(netrpctest.LogArgs{Message: "tester logged", Key: "answer", Value: "42"}); err != nil {
		return nil, err
	}
	seen := waitFor(ctx, 5*time.Second, func() bool {
		return len(findLog(logEntries(s.hostLog.String()), "tester logged")) > 0
	})
	return map[string]any{"seen": seen}, nil
}

// callback: MuxBroker streams both ways, each carrying a net/rpc Plugin.Add.
func callback(_ context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	// Host serves, plugin dials.
	id := t.Broker.NextId()
	go t.Broker.AcceptAndServe(id, netrpctest.Adder{})
	viaHost, err := t.AddVia(netrpctest.CallbackArgs{ID: id, A: 2, B: 3})
	if err != nil {
		return nil, fmt.Errorf("AddVia: %w", err)
	}
	// Plugin serves, host dials.
	pluginID, err := t.ServeAdder()
	if err != nil {
		return nil, fmt.Errorf("ServeAdder: %w", err)
	}
	conn, err := t.Broker.Dial(pluginID)
	if err != nil {
		return nil, fmt.Errorf("dial %d: %w", pluginID, err)
	}
	adder := rpc.NewClient(conn)
	defer func() { _ = adder.Close() }()
	var viaPlugin int
	if err := adder.Call("Plugin.Add", netrpctest.AddArgs{A: 20, B: 22}, &viaPlugin); err != nil {
		return nil, fmt.Errorf("Plugin.Add on the plugin's id: %w", err)
	}
	return map[string]any{"viaHost": viaHost, "viaPlugin": viaPlugin, "pluginId": pluginID}, nil
}

// crash: the plugin exits during a call; the call fails and the client sees the exit.
func crash(ctx context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	callErr := t.Crash(3)
	exited := waitFor(ctx, 5*time.Second, s.client.Exited)
	text := ""
	if callErr != nil {
		text = callErr.Error()
	}
	return map[string]any{"callFailed": callErr != nil, "callError": text, "exited": exited}, nil
}

// slowKill: Kill while a slow call runs; Control.Quit still ends the plugin promptly.
func slowKill(ctx context.Context, s *session) (any, error) {
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		_, err := t.Sleep(30_000)
		done <- err
	}()
	// Kill once the plugin runs the call (it logs "sleep started"), not on a timer.
	running := waitFor(ctx, 10*time.Second, func() bool {
		return len(findLog(logEntries(s.hostLog.String()), "sleep started")) > 0
	})
	if !running {
		return nil, errors.New("the plugin never started the slow call")
	}
	s.kill()
	var callErr error
	select {
	case callErr = <-done:
	case <-ctx.Done():
		return nil, errors.New("the slow call never ended after Kill")
	}
	return map[string]any{"callFailed": callErr != nil}, nil
}

// quit: Kill right away (Control.Quit); the report's killMs, exited and forced tell the rest.
func quit(_ context.Context, s *session) (any, error) {
	if err := s.rpc.Ping(); err != nil {
		return nil, err
	}
	s.kill()
	return map[string]any{"pingAfterKill": s.rpc.Ping() == nil}, nil
}

// negotiate: whatever version and protocol were agreed, use that version's plugin.
func negotiate(ctx context.Context, s *session) (any, error) {
	if s.client.Protocol() == plugin.ProtocolGRPC {
		raw, err := s.rpc.Dispense(plugins.KVName)
		if err != nil {
			return nil, err
		}
		kv := raw.(kvpb.KVClient)
		if _, err := kv.Put(ctx, &kvpb.PutRequest{Key: "k", Value: []byte("over grpc")}); err != nil {
			return nil, err
		}
		got, err := kv.Get(ctx, &kvpb.GetRequest{Key: "k"})
		if err != nil {
			return nil, err
		}
		return map[string]any{"kv": string(got.GetValue())}, nil
	}
	t, err := s.tester()
	if err != nil {
		return nil, err
	}
	doubled, err := t.Double(4)
	return map[string]any{"double": doubled}, err
}

// reattach: a second client attaches to the running plugin by its ReattachConfig and calls it.
func reattach(_ context.Context, s *session) (any, error) {
	cfg := s.client.ReattachConfig()
	if cfg == nil {
		return nil, errors.New("no reattach config")
	}
	second := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: netrpctest.Handshake,
		Plugins:         plugin.PluginSet{netrpctest.Name: &netrpctest.Plugin{}},
		Reattach:        cfg,
		Logger:          s.config.Logger,
	})
	rpcClient, err := second.Client()
	if err != nil {
		return nil, fmt.Errorf("reattach: %w", err)
	}
	raw, err := rpcClient.Dispense(netrpctest.Name)
	if err != nil {
		return nil, err
	}
	doubled, err := raw.(*netrpctest.Client).Double(5)
	if err != nil {
		return nil, err
	}
	return map[string]any{"protocol": string(cfg.Protocol), "double": doubled}, nil
}

// ping: TestClient_ping: Ping works while the plugin runs and fails after Kill.
func ping(_ context.Context, s *session) (any, error) {
	before := s.rpc.Ping()
	s.kill()
	after := s.rpc.Ping()
	afterText := ""
	if after != nil {
		afterText = after.Error()
	}
	return map[string]any{"before": before == nil, "after": after == nil, "afterError": strings.TrimSpace(afterText)}, nil
}
