// Command netrpc-host is a real go-plugin (v1.8.0) host for plugwire's net/rpc interop tests: it
// launches a plugin with plugin.NewClient, dispenses netrpctest.Tester over go-plugin's net/rpc
// protocol (or proto.KV over gRPC, for versions given by -grpc-versions), runs one scenario and
// prints one JSON report on stdout (the same shape as goplugin-host's). See ../../README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/internal/netrpctest"
	"plugwire.dev/interop/internal/plugins"
)

// report is the one JSON document printed; field names are the TypeScript tests' contract.
type report struct {
	OK                bool             `json:"ok"`
	Scenario          string           `json:"scenario"`
	NegotiatedVersion int              `json:"negotiatedVersion"`
	Protocol          string           `json:"protocol"`
	Result            any              `json:"result"`
	KillMs            float64          `json:"killMs"`
	Exited            bool             `json:"exited"`
	Forced            bool             `json:"forced"`
	HostLog           []map[string]any `json:"hostLog"`
	SyncStdout        string           `json:"syncStdout"`
	SyncStderr        string           `json:"syncStderr"`
	PluginStderr      string           `json:"pluginStderr"`
	Error             string           `json:"error"`
}

type config struct {
	cmd          string
	args         []string
	netrpc       []int
	grpc         []int
	autoMTLS     bool
	scenario     string
	startTimeout time.Duration
}

func main() {
	cfg := &config{}
	flag.StringVar(&cfg.cmd, "cmd", "", "plugin executable; its arguments follow --")
	versions := flag.String("versions", "1", "versions whose plugin set is the net/rpc tester")
	grpcVersions := flag.String("grpc-versions", "", "versions whose plugin set is the gRPC kv")
	flag.BoolVar(&cfg.autoMTLS, "automtls", false, "ClientConfig.AutoMTLS")
	flag.StringVar(&cfg.scenario, "scenario", "basic", "scenario to run")
	flag.DurationVar(&cfg.startTimeout, "start-timeout", 0, "ClientConfig.StartTimeout")
	flag.Parse()
	cfg.args = flag.Args()
	rep := &report{Scenario: cfg.scenario}
	var err error
	if cfg.netrpc, err = optionalVersions(*versions); err == nil {
		cfg.grpc, err = optionalVersions(*grpcVersions)
	}
	if _, known := scenarios[cfg.scenario]; err == nil && !known {
		err = fmt.Errorf("unknown -scenario %q", cfg.scenario)
	}
	if err == nil && cfg.cmd == "" {
		err = fmt.Errorf("-cmd is required")
	}
	if err != nil {
		rep.Error = err.Error()
		emit(rep)
		os.Exit(2)
	}
	run(cfg, rep)
	emit(rep)
	if !rep.OK {
		os.Exit(1)
	}
}

func optionalVersions(list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	return plugins.ParseVersions(list)
}

func emit(rep *report) {
	if rep.HostLog == nil {
		rep.HostLog = []map[string]any{}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rep)
}

// session is one launched plugin and what go-plugin reports about it.
type session struct {
	client    *plugin.Client
	rpc       plugin.ClientProtocol
	config    *plugin.ClientConfig
	hostLog   *syncBuffer
	stdout    *syncBuffer
	stderr    *syncBuffer
	rawStderr *syncBuffer
	killMs    float64
	killed    bool
}

func pluginSets(cfg *config) map[int]plugin.PluginSet {
	sets := map[int]plugin.PluginSet{}
	for _, v := range cfg.netrpc {
		sets[v] = plugin.PluginSet{netrpctest.Name: &netrpctest.Plugin{}}
	}
	for _, v := range cfg.grpc {
		sets[v] = plugin.PluginSet{plugins.KVName: &plugins.KV{}}
	}
	return sets
}

func newSession(cfg *config) *session {
	s := &session{hostLog: &syncBuffer{}, stdout: &syncBuffer{}, stderr: &syncBuffer{}, rawStderr: &syncBuffer{}}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "host",
		Level:      hclog.Trace,
		Output:     s.hostLog,
		JSONFormat: true,
	})
	s.config = &plugin.ClientConfig{
		HandshakeConfig:  netrpctest.Handshake,
		VersionedPlugins: pluginSets(cfg),
		Cmd:              exec.Command(cfg.cmd, cfg.args...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC, plugin.ProtocolGRPC},
		AutoMTLS:         cfg.autoMTLS,
		StartTimeout:     cfg.startTimeout,
		Logger:           logger,
		Stderr:           s.rawStderr,
		SyncStdout:       s.stdout,
		SyncStderr:       s.stderr,
	}
	s.client = plugin.NewClient(s.config)
	return s
}

// tester dispenses the net/rpc tester.
func (s *session) tester() (*netrpctest.Client, error) {
	raw, err := s.rpc.Dispense(netrpctest.Name)
	if err != nil {
		return nil, err
	}
	return raw.(*netrpctest.Client), nil
}

// kill runs Client.Kill once and records how long it took and whether it had to force it.
func (s *session) kill() {
	if s.killed {
		return
	}
	s.killed = true
	t0 := time.Now()
	s.client.Kill()
	s.killMs = float64(time.Since(t0).Microseconds()) / 1000
}

func run(cfg *config, rep *report) {
	s := newSession(cfg)
	func() {
		defer func() {
			if r := recover(); r != nil {
				rep.OK = false
				rep.Error = fmt.Sprintf("go-plugin host panicked: %v", r)
			}
		}()
		rpcClient, err := s.client.Client()
		if err != nil {
			rep.Error = err.Error()
			return
		}
		s.rpc = rpcClient
		rep.NegotiatedVersion = s.client.NegotiatedVersion()
		rep.Protocol = string(s.client.Protocol())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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
	rep.KillMs = s.killMs
	rep.Exited = s.client.Exited()
	rep.HostLog = logEntries(s.hostLog.String())
	rep.Forced = len(findLog(rep.HostLog, "plugin failed to exit gracefully")) > 0
	rep.SyncStdout = s.stdout.String()
	rep.SyncStderr = s.stderr.String()
	rep.PluginStderr = s.rawStderr.String()
}
