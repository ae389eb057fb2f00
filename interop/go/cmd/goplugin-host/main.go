// Command goplugin-host is a real go-plugin (v1.8.0) host for plugwire's interop tests: it
// launches a plugin executable with plugin.NewClient, runs one scenario against it and prints
// exactly one JSON report on stdout. See ../../README.md for the contract.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"plugwire.dev/interop/internal/plugins"
)

// config is everything the command line controls.
type config struct {
	cmd          string
	args         []string
	cookieKey    string
	cookieValue  string
	versions     []int
	autoMTLS     bool
	mux          bool
	skipHostEnv  bool
	startTimeout time.Duration
	dispense     string
	scenario     string
	json         bool

	// Benchmark knobs; zero means "the scenario's default".
	n           int
	size        int
	concurrency int
	durationMs  int
	warmup      int
	warmupMs    int
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		// Usage errors still produce the one JSON document the caller parses.
		emit(os.Stdout, &report{Scenario: cfg.scenario, Error: err.Error()}, true)
		os.Exit(2)
	}
	rep := run(cfg)
	emit(os.Stdout, rep, cfg.json)
	if !rep.OK {
		os.Exit(1)
	}
}

func parseFlags(argv []string, usage io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("goplugin-host", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.cmd, "cmd", "", "plugin executable; its arguments follow --")
	fs.StringVar(&cfg.cookieKey, "cookie-key", "", "magic cookie key (default depends on -dispense)")
	fs.StringVar(&cfg.cookieValue, "cookie-value", "", "magic cookie value (default depends on -dispense)")
	versionList := fs.String("versions", "1", "comma-separated app protocol versions to offer")
	fs.BoolVar(&cfg.autoMTLS, "automtls", false, "ClientConfig.AutoMTLS")
	fs.BoolVar(&cfg.mux, "mux", false, "ClientConfig.GRPCBrokerMultiplex")
	fs.BoolVar(&cfg.skipHostEnv, "skip-host-env", false, "ClientConfig.SkipHostEnv")
	fs.DurationVar(&cfg.startTimeout, "start-timeout", 0, "ClientConfig.StartTimeout (0: go-plugin's default, 1m)")
	fs.StringVar(&cfg.dispense, "dispense", "", "plugin to dispense: kv or test (default: kv for -scenario kv, else test)")
	fs.StringVar(&cfg.scenario, "scenario", "negotiate", "scenario to run")
	fs.BoolVar(&cfg.json, "json", true, "print the report as JSON (false: short text)")
	fs.IntVar(&cfg.n, "n", 0, "bench-*: iterations")
	fs.IntVar(&cfg.size, "size", 0, "bench-*: payload bytes")
	fs.IntVar(&cfg.concurrency, "concurrency", 0, "bench-throughput: concurrent callers")
	fs.IntVar(&cfg.durationMs, "duration-ms", 0, "bench-throughput: measuring time in ms")
	fs.IntVar(&cfg.warmupMs, "warmup-ms", 0, "bench-throughput: the callers run untimed this long first")
	fs.IntVar(&cfg.warmup, "warmup", 0, "bench-unary/-throughput/-stream/-large: untimed calls (messages) first (default 100; bench-large 2)")
	if err := fs.Parse(argv); err != nil {
		return cfg, err
	}
	cfg.args = fs.Args()

	if cfg.cmd == "" {
		return cfg, errors.New("-cmd is required")
	}
	versions, err := plugins.ParseVersions(*versionList)
	if err != nil {
		return cfg, err
	}
	cfg.versions = versions

	if cfg.dispense == "" {
		cfg.dispense = plugins.TestName
		if cfg.scenario == "kv" {
			cfg.dispense = plugins.KVName
		}
	}
	if cfg.dispense != plugins.KVName && cfg.dispense != plugins.TestName {
		return cfg, fmt.Errorf("unknown -dispense %q (want kv or test)", cfg.dispense)
	}
	// Defaults apply only to flags not given, so an explicitly empty cookie can be tested too.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	key, value := plugins.DefaultCookie(cfg.dispense)
	if !set["cookie-key"] {
		cfg.cookieKey = key
	}
	if !set["cookie-value"] {
		cfg.cookieValue = value
	}
	if _, ok := scenarios[cfg.scenario]; !ok {
		return cfg, fmt.Errorf("unknown -scenario %q", cfg.scenario)
	}
	return cfg, nil
}
