// Runs the interop host against the interop plugin (Go on both sides) for every scenario, so
// the harness itself is known to be right before the TypeScript tests rely on it.
package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// bin holds goplugin-host and goplugin-plugin, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "interop-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := goBuild(dir+string(filepath.Separator), "./cmd/..."); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		bin = dir
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func goBuild(out, pkg string) error {
	// go test puts its own toolchain first on PATH, so "go" is the one running this test.
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, b)
	}
	return nil
}

// report mirrors the host's JSON output (see README.md).
type report struct {
	OK                bool              `json:"ok"`
	Scenario          string            `json:"scenario"`
	NegotiatedVersion int               `json:"negotiatedVersion"`
	Protocol          string            `json:"protocol"`
	Result            json.RawMessage   `json:"result"`
	KillMs            float64           `json:"killMs"`
	Exited            bool              `json:"exited"`
	HostLog           []json.RawMessage `json:"hostLog"`
	SyncStdout        string            `json:"syncStdout"`
	SyncStderr        string            `json:"syncStderr"`
	PluginStderr      string            `json:"pluginStderr"`
	Error             string            `json:"error"`
	exitCode          int
}

// host runs goplugin-host in dir with hostArgs, launching goplugin-plugin with pluginArgs.
func host(t *testing.T, dir string, hostArgs, pluginArgs []string) *report {
	t.Helper()
	args := append([]string{"-cmd", filepath.Join(bin, "goplugin-plugin")}, hostArgs...)
	return runHost(t, dir, append(append(args, "--"), pluginArgs...)...)
}

func runHost(t *testing.T, dir string, args ...string) *report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "goplugin-host"), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	rep := &report{}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		rep.exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("goplugin-host %q: %v", args, err)
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(rep); err != nil {
		t.Fatalf("goplugin-host %q: stdout is not a JSON report: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	if dec.More() {
		t.Fatalf("goplugin-host %q printed more than one JSON document", args)
	}
	return rep
}

func mustOK(t *testing.T, rep *report) {
	t.Helper()
	if !rep.OK || rep.exitCode != 0 || rep.Error != "" {
		t.Fatalf("scenario %s failed (exit %d): %s\nresult: %s", rep.Scenario, rep.exitCode, rep.Error, rep.Result)
	}
	if rep.Protocol != "grpc" || !rep.Exited {
		t.Fatalf("protocol %q exited %v, want grpc and true", rep.Protocol, rep.Exited)
	}
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	return v
}

var variants = map[string][]string{
	"plain":        nil,
	"automtls":     {"-automtls"},
	"mux":          {"-mux"},
	"automtls+mux": {"-automtls", "-mux"},
}

// checks validates each scenario's result beyond ok:true.
var checks = map[string]func(t *testing.T, rep *report){
	"negotiate": func(t *testing.T, rep *report) {
		if rep.NegotiatedVersion != 1 {
			t.Errorf("negotiatedVersion = %d, want 1", rep.NegotiatedVersion)
		}
	},
	"double": func(t *testing.T, rep *report) {
		if r := decode[struct{ Output int }](t, rep.Result); r.Output != 42 {
			t.Errorf("output = %d, want 42", r.Output)
		}
	},
	"ping": func(t *testing.T, rep *report) {
		r := decode[struct {
			BeforeOk, AfterOk bool
			AfterError        string
		}](t, rep.Result)
		if !r.BeforeOk || r.AfterOk || r.AfterError == "" {
			t.Errorf("ping result %s", rep.Result)
		}
	},
	"stdio": func(t *testing.T, rep *report) {
		if rep.SyncStdout != "out-bytes\n" || rep.SyncStderr != "err-bytes\n" {
			t.Errorf("syncStdout %q syncStderr %q", rep.SyncStdout, rep.SyncStderr)
		}
	},
	"logs": func(t *testing.T, rep *report) {
		r := decode[struct{ Entries []map[string]any }](t, rep.Result)
		got := map[string]any{}
		for _, e := range r.Entries {
			if e["@level"] != "info" || e["@module"] != "host.goplugin-plugin" {
				t.Errorf("entry %v: want level info, module host.goplugin-plugin", e)
			}
			for _, k := range []string{"foo", "answer", "quote"} {
				if v, ok := e[k]; ok {
					got[k] = v
				}
			}
		}
		want := map[string]any{"foo": "bar", "answer": float64(42), "quote": `say "hi"`}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("logged fields %v, want %v", got, want)
		}
	},
	"shutdown": func(t *testing.T, rep *report) {
		r := decode[struct {
			Graceful, Forced bool
			ProcessExitLevel string
		}](t, rep.Result)
		if !r.Graceful || r.Forced || r.ProcessExitLevel != "info" {
			t.Errorf("shutdown result %s", rep.Result)
		}
		// go-plugin waits up to 2 s before SIGKILL; a graceful exit is far below that.
		if rep.KillMs <= 0 || rep.KillMs > 1500 {
			t.Errorf("killMs = %v", rep.KillMs)
		}
	},
	"deadline": func(t *testing.T, rep *report) {
		r := decode[struct {
			Code                string
			ElapsedMs           float64
			HandlerCancelled    int
			DeadlineRemainingMs int
		}](t, rep.Result)
		if r.Code != "DeadlineExceeded" || r.HandlerCancelled != 1 || r.ElapsedMs < 290 || r.ElapsedMs > 1900 {
			t.Errorf("deadline result %s", rep.Result)
		}
		if r.DeadlineRemainingMs < 500 || r.DeadlineRemainingMs > 1000 {
			t.Errorf("deadlineRemainingMs = %d, want about 1000", r.DeadlineRemainingMs)
		}
	},
	"cancel": func(t *testing.T, rep *report) {
		r := decode[struct {
			Code              string
			ElapsedMs         float64
			HandlerCancelled  int
			HandlerLastReason string
		}](t, rep.Result)
		if r.Code != "Canceled" || r.HandlerCancelled != 1 || r.HandlerLastReason != "context canceled" ||
			r.ElapsedMs < 190 || r.ElapsedMs > 1900 {
			t.Errorf("cancel result %s", rep.Result)
		}
	},
	"stream": func(t *testing.T, rep *report) {
		r := decode[struct {
			Count      []int
			Sum        struct{ Total, Count int }
			EchoStream []string
			TestStream []int
		}](t, rep.Result)
		if !slices.Equal(r.Count, []int{0, 1, 2, 3, 4}) || r.Sum.Total != 55 || r.Sum.Count != 10 ||
			!slices.Equal(r.EchoStream, []string{"one", "two", "three"}) ||
			!slices.Equal(r.TestStream, []int{21, 22, 23, 24, 25, 26}) {
			t.Errorf("stream result %s", rep.Result)
		}
	},
	"bidirectional": func(t *testing.T, rep *report) {
		if r := decode[struct{ Pong string }](t, rep.Result); r.Pong != "pong" {
			t.Errorf("bidirectional result %s", rep.Result)
		}
	},
	"panic": func(t *testing.T, rep *report) {
		r := decode[struct {
			Code       string
			PanicLevel string
		}](t, rep.Result)
		if r.Code != "Unavailable" || r.PanicLevel != "error" {
			t.Errorf("panic result %s", rep.Result)
		}
	},
}

// muxScenarios are the ones whose traffic differs under broker multiplexing.
var muxScenarios = []string{"double", "stream", "bidirectional", "stdio"}

func TestScenarios(t *testing.T) {
	for name, check := range checks {
		for variant, flags := range variants {
			if strings.Contains(variant, "mux") && !slices.Contains(muxScenarios, name) {
				continue
			}
			t.Run(name+"/"+variant, func(t *testing.T) {
				t.Parallel()
				rep := host(t, t.TempDir(), append([]string{"-scenario", name}, flags...), []string{"-mode", "test"})
				mustOK(t, rep)
				check(t, rep)
			})
		}
	}
}

func TestKV(t *testing.T) {
	dir := t.TempDir()
	rep := host(t, dir, []string{"-scenario", "kv"}, nil)
	mustOK(t, rep)
	const want = "world\n\nWritten from plugin-go-grpc"
	if r := decode[struct{ Value string }](t, rep.Result); r.Value != want {
		t.Errorf("value %q, want %q", r.Value, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "kv_hello")); err != nil || string(b) != want {
		t.Errorf("kv_hello = %q, %v", b, err)
	}
}

func TestNegotiation(t *testing.T) {
	for _, tc := range []struct {
		host, plugin string
		want         int
	}{
		{"5,6", "4,5,6", 6},
		{"5", "5,6", 5},
		{"2,3", "1,3", 3},
	} {
		t.Run(tc.host+"_vs_"+tc.plugin, func(t *testing.T) {
			t.Parallel()
			rep := host(t, t.TempDir(), []string{"-scenario", "double", "-versions", tc.host},
				[]string{"-mode", "test", "-versions", tc.plugin})
			mustOK(t, rep)
			if rep.NegotiatedVersion != tc.want {
				t.Errorf("negotiatedVersion = %d, want %d", rep.NegotiatedVersion, tc.want)
			}
		})
	}
}

// Start errors come back as ok:false, exit 1, with go-plugin's own error text.
func TestStartErrors(t *testing.T) {
	plugin := filepath.Join(bin, "goplugin-plugin")
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr []string // any of these prefixes
	}{
		{
			name: "wrong cookie",
			args: []string{"-cmd", plugin, "-cookie-value", "nope", "-scenario", "double", "--", "-mode", "test"},
			wantErr: []string{
				"Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout",
				"plugin exited before we could connect",
			},
		},
		{
			name:    "version mismatch",
			args:    []string{"-cmd", plugin, "-versions", "7", "-scenario", "double", "--", "-mode", "test", "-versions", "5,6"},
			wantErr: []string{"incompatible API version with plugin. Plugin version: 5, Client versions: [7]"},
		},
		{
			name:    "start timeout",
			args:    []string{"-cmd", "/bin/sh", "-start-timeout", "200ms", "-scenario", "negotiate", "--", "-c", "exec sleep 30"},
			wantErr: []string{"timeout while waiting for plugin to start"},
		},
		{
			name:    "missing executable",
			args:    []string{"-cmd", filepath.Join(bin, "does-not-exist"), "-scenario", "negotiate"},
			wantErr: []string{"fork/exec "},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runHost(t, t.TempDir(), tc.args...)
			if rep.OK || rep.exitCode != 1 {
				t.Fatalf("ok %v exit %d, want false and 1", rep.OK, rep.exitCode)
			}
			if !slices.ContainsFunc(tc.wantErr, func(p string) bool { return strings.HasPrefix(rep.Error, p) }) {
				t.Errorf("error %q, want a prefix from %q", rep.Error, tc.wantErr)
			}
		})
	}
}

func TestWrongCookieMessage(t *testing.T) {
	rep := host(t, t.TempDir(), []string{"-cookie-value", "nope", "-scenario", "negotiate"}, nil)
	const msg = "This binary is a plugin. These are not meant to be executed directly.\n"
	if rep.OK || !strings.HasPrefix(rep.PluginStderr, msg) {
		t.Errorf("ok %v pluginStderr %q", rep.OK, rep.PluginStderr)
	}
}

func TestUsageError(t *testing.T) {
	rep := runHost(t, t.TempDir(), "-scenario", "no-such-scenario", "-cmd", "x")
	if rep.OK || rep.exitCode != 2 || !strings.Contains(rep.Error, "no-such-scenario") {
		t.Errorf("ok %v exit %d error %q", rep.OK, rep.exitCode, rep.Error)
	}
}

// Short benchmark runs: only that each produces its numbers.
func TestBenchSmoke(t *testing.T) {
	for _, tc := range []struct {
		args []string
		key  string
	}{
		{[]string{"-scenario", "bench-unary", "-n", "50"}, "medianUs"},
		{[]string{"-scenario", "bench-throughput", "-duration-ms", "200", "-concurrency", "2"}, "callsPerSec"},
		// 5 MiB is above grpc-go's default 4 MiB receive limit, so this proves it is lifted.
		{[]string{"-scenario", "bench-large", "-size", "5242880", "-n", "1"}, "mibPerSec"},
		{[]string{"-scenario", "bench-stream", "-n", "200"}, "messagesPerSec"},
		{[]string{"-scenario", "bench-start", "-n", "2"}, "medianMs"},
	} {
		t.Run(tc.args[1], func(t *testing.T) {
			rep := host(t, t.TempDir(), tc.args, []string{"-mode", "test"})
			mustOK(t, rep)
			if r := decode[map[string]any](t, rep.Result); r[tc.key] == nil {
				t.Errorf("result %s lacks %s", rep.Result, tc.key)
			}
		})
	}
}

// go-plugin's own example binaries must build from this module and interoperate with ours.
func TestGoPluginExamples(t *testing.T) {
	out := t.TempDir()
	for name, pkg := range map[string]string{
		"kv-example-host":              "github.com/hashicorp/go-plugin/examples/grpc",
		"kv-example-plugin":            "github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc",
		"bidirectional-example-host":   "github.com/hashicorp/go-plugin/examples/bidirectional",
		"bidirectional-example-plugin": "github.com/hashicorp/go-plugin/examples/bidirectional/plugin-go-grpc",
	} {
		if err := goBuild(filepath.Join(out, name), pkg); err != nil {
			t.Fatal(err)
		}
	}
	example := func(t *testing.T, dir string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(out, args[0]), args[1:]...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, b)
		}
		return string(b)
	}

	t.Run("kv example host and plugin", func(t *testing.T) {
		dir := t.TempDir()
		env := []string{"KV_PROTO=grpc", "KV_PLUGIN=" + filepath.Join(out, "kv-example-plugin")}
		example(t, dir, env, "kv-example-host", "put", "a", "b")
		if got := example(t, dir, env, "kv-example-host", "get", "a"); got != "b\n\nWritten from plugin-go-grpc\n" {
			t.Errorf("get a = %q", got)
		}
	})
	t.Run("kv example host with our plugin", func(t *testing.T) {
		dir := t.TempDir()
		env := []string{"KV_PROTO=grpc", "KV_PLUGIN=" + filepath.Join(bin, "goplugin-plugin")}
		example(t, dir, env, "kv-example-host", "put", "a", "b")
		if got := example(t, dir, env, "kv-example-host", "get", "a"); got != "b\n\nWritten from plugin-go-grpc\n" {
			t.Errorf("get a = %q", got)
		}
	})
	t.Run("our host with kv example plugin", func(t *testing.T) {
		rep := runHost(t, t.TempDir(), "-cmd", filepath.Join(out, "kv-example-plugin"), "-scenario", "kv")
		mustOK(t, rep)
	})
	t.Run("bidirectional example", func(t *testing.T) {
		dir := t.TempDir()
		env := []string{"COUNTER_PLUGIN=" + filepath.Join(out, "bidirectional-example-plugin")}
		example(t, dir, env, "bidirectional-example-host", "put", "c", "3")
		example(t, dir, env, "bidirectional-example-host", "put", "c", "4")
		if got := example(t, dir, env, "bidirectional-example-host", "get", "c"); got != "7\n" {
			t.Errorf("get c = %q", got)
		}
	})
}
