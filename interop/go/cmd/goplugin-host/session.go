package main

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/gen/kvpb"
	"plugwire.dev/interop/internal/plugins"
)

// scenarioTimeout bounds every scenario body so a hung plugin fails the run instead of the
// calling test's own timeout.
const scenarioTimeout = 60 * time.Second

// session is one launched plugin plus the buffers that capture what go-plugin reports.
type session struct {
	cfg    *config
	client *plugin.Client
	rpc    plugin.ClientProtocol

	hostLog   *syncBuffer // host logger output: hclog JSON lines
	stdout    *syncBuffer // ClientConfig.SyncStdout (plugin's GRPCStdio stdout)
	stderr    *syncBuffer // ClientConfig.SyncStderr (plugin's GRPCStdio stderr)
	rawStderr *syncBuffer // ClientConfig.Stderr (plugin's real stderr, verbatim)

	killOnce sync.Once
	killDur  time.Duration
}

func newSession(cfg *config) *session {
	s := &session{
		cfg:       cfg,
		hostLog:   &syncBuffer{},
		stdout:    &syncBuffer{},
		stderr:    &syncBuffer{},
		rawStderr: &syncBuffer{},
	}
	// JSON at Trace into a buffer: go-plugin re-logs every plugin stderr line through this
	// logger (named "host.<plugin basename>"), and we hand the entries back in the report.
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "host",
		Level:      hclog.Trace,
		Output:     s.hostLog,
		JSONFormat: true,
	})
	s.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			MagicCookieKey:   cfg.cookieKey,
			MagicCookieValue: cfg.cookieValue,
		},
		VersionedPlugins:    plugins.Versioned(cfg.versions, plugins.HostSet),
		Cmd:                 exec.Command(cfg.cmd, cfg.args...),
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            cfg.autoMTLS,
		GRPCBrokerMultiplex: cfg.mux,
		SkipHostEnv:         cfg.skipHostEnv,
		StartTimeout:        cfg.startTimeout,
		Logger:              logger,
		Stderr:              s.rawStderr,
		SyncStdout:          s.stdout,
		SyncStderr:          s.stderr,
	})
	return s
}

// start launches the plugin and connects; the error is go-plugin's, unwrapped.
func (s *session) start() error {
	rpc, err := s.client.Client()
	if err != nil {
		return err
	}
	s.rpc = rpc
	return nil
}

// kill calls Client.Kill once and remembers how long it took.
func (s *session) kill() {
	s.killOnce.Do(func() {
		t0 := time.Now()
		s.client.Kill()
		s.killDur = time.Since(t0)
	})
}

func (s *session) testClients() (*plugins.TestClients, error) {
	raw, err := s.rpc.Dispense(plugins.TestName)
	if err != nil {
		return nil, err
	}
	return raw.(*plugins.TestClients), nil
}

func (s *session) kvClient() (kvpb.KVClient, error) {
	raw, err := s.rpc.Dispense(plugins.KVName)
	if err != nil {
		return nil, err
	}
	return raw.(kvpb.KVClient), nil
}

// run executes the configured scenario end to end and always returns a report.
func run(cfg *config) *report {
	rep := &report{Scenario: cfg.scenario}
	s := newSession(cfg)

	func() {
		// go-plugin can panic in the calling goroutine on malformed plugin input (e.g. a
		// certificate the host did not ask for); report it instead of crashing.
		defer func() {
			if r := recover(); r != nil {
				rep.OK = false
				rep.Error = fmt.Sprintf("go-plugin host panicked: %v", r)
			}
		}()
		if err := s.start(); err != nil {
			rep.Error = err.Error()
			return
		}
		rep.NegotiatedVersion = s.client.NegotiatedVersion()
		rep.Protocol = string(s.client.Protocol())

		ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
		defer cancel()
		result, err := scenarios[cfg.scenario](ctx, s)
		rep.Result = result
		if err != nil {
			rep.Error = err.Error()
			return
		}
		rep.OK = true
	}()

	s.kill()
	rep.KillMs = ms(s.killDur)
	rep.Exited = s.client.Exited()
	rep.HostLog = logEntries(s.hostLog.String())
	rep.SyncStdout = s.stdout.String()
	rep.SyncStderr = s.stderr.String()
	rep.PluginStderr = s.rawStderr.String()
	return rep
}

// waitFor polls cond every few milliseconds until it holds or ctx/limit runs out; output
// arrives asynchronously (stdio stream, stderr reader), so there is no fixed sleep to pick.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-tick.C:
		}
	}
}
