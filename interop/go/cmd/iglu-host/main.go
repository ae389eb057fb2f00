// Command iglu-host is the Iglu host of the "Reliable Plugins in Go" post (the seed), on go-plugin
// v1.8.0's net/rpc protocol (plugin.MuxBroker and *rpc.Client through sdk.IgluPlugin): it loads
// every plugin executable in a folder, caches each GetManifest, and marks plugins whose process
// exited while running as crashed. It prints JSON lines on stdout; go-plugin's log goes to stderr.
//
//	iglu-host -dir PLUGINS [-watch]            load the folder; with -watch, answer stdin commands
//	iglu-host -bench seq|par [-n N] [-inflight C] [-duration-ms D] [-warmup W] -- CMD ARGS...
//
// -watch commands, one per stdin line: `check` (markCrashedPlugins, then one "state" line per
// plugin and a "checked" line), `manifests` (GetManifest on every running plugin). EOF kills the
// plugins and exits. The bench mode is bench.go.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"plugwire.dev/interop/cmd/iglu-plugin/sdk"
)

// PluginState is the post's enum.
type PluginState int

const (
	Stopped PluginState = iota
	Running
	Crashed
)

func (s PluginState) String() string {
	return [...]string{"stopped", "running", "crashed"}[s]
}

// IgluPlugin is one loaded plugin, as the post keeps it.
type IgluPlugin struct {
	Plugin   *sdk.IgluRPC
	client   *plugin.Client
	State    PluginState
	Filename string
	Manifest sdk.PluginManifest
}

var pluginMap = map[string]plugin.Plugin{sdk.PluginName: &sdk.IgluPlugin{}}

var out = json.NewEncoder(os.Stdout)

func emit(event map[string]any) { _ = out.Encode(event) }

func logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Debug})
}

// loadPlugin launches one plugin executable, dispenses the Iglu plugin and caches its manifest.
func loadPlugin(cmd *exec.Cmd, file string) (*IgluPlugin, error) {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins:         pluginMap,
		Managed:         true,
		Cmd:             cmd,
		Logger:          logger(),
		// The post's host speaks net/rpc only: a plugin must be one.
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
	})
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, err
	}
	raw, err := rpcClient.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, err
	}
	iglu := raw.(*sdk.IgluRPC)
	manifest, err := iglu.GetManifest()
	if err != nil {
		client.Kill()
		return nil, err
	}
	return &IgluPlugin{Plugin: iglu, client: client, State: Running, Filename: file, Manifest: manifest}, nil
}

// loadPlugins loads every file of dir, by manifest id.
func loadPlugins(dir string) map[string]*IgluPlugin {
	loaded := map[string]*IgluPlugin{}
	files, err := os.ReadDir(dir)
	if err != nil {
		emit(map[string]any{"event": "failed", "file": dir, "error": err.Error()})
		return loaded
	}
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		path := filepath.Join(dir, f.Name())
		pl, err := loadPlugin(exec.Command(path), f.Name())
		if err != nil {
			emit(map[string]any{"event": "failed", "file": f.Name(), "error": err.Error()})
			continue
		}
		loaded[pl.Manifest.Id] = pl
		emit(map[string]any{
			"event":    "loaded",
			"file":     f.Name(),
			"pid":      pl.client.ReattachConfig().Pid,
			"protocol": string(pl.client.Protocol()),
			"manifest": pl.Manifest,
		})
	}
	return loaded
}

// markCrashedPlugins is the post's crash check: a client that exited while running crashed.
func markCrashedPlugins(loaded map[string]*IgluPlugin) {
	for _, pl := range loaded {
		if pl.client.Exited() && pl.State == Running {
			pl.State = Crashed
		}
	}
}

func ids(loaded map[string]*IgluPlugin) []string {
	list := make([]string, 0, len(loaded))
	for id := range loaded {
		list = append(list, id)
	}
	sort.Strings(list)
	return list
}

func watch(loaded map[string]*IgluPlugin) {
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		switch lines.Text() {
		case "check":
			markCrashedPlugins(loaded)
			for _, id := range ids(loaded) {
				emit(map[string]any{"event": "state", "id": id, "state": loaded[id].State.String()})
			}
			emit(map[string]any{"event": "checked"})
		case "manifests":
			for _, id := range ids(loaded) {
				pl := loaded[id]
				if pl.State != Running {
					// The cached manifest is what the post keeps for a crashed plugin.
					emit(map[string]any{"event": "manifest", "id": id, "cached": true, "manifest": pl.Manifest})
					continue
				}
				m, err := pl.Plugin.GetManifest()
				if err != nil {
					emit(map[string]any{"event": "manifest", "id": id, "error": err.Error()})
					continue
				}
				emit(map[string]any{"event": "manifest", "id": id, "manifest": m})
			}
			emit(map[string]any{"event": "listed"})
		default:
			emit(map[string]any{"event": "error", "error": fmt.Sprintf("unknown command %q", lines.Text())})
		}
	}
}

func main() {
	dir := flag.String("dir", "./plugins", "the plugin folder")
	watchMode := flag.Bool("watch", false, "answer check/manifests commands on stdin until EOF")
	bench := flag.String("bench", "", "seq or par: measure GetManifest calls on the plugin after --")
	flag.IntVar(&benchN, "n", 2000, "bench seq: sequential calls")
	flag.IntVar(&benchInflight, "inflight", 64, "bench par: calls in flight")
	flag.IntVar(&benchDurationMs, "duration-ms", 500, "bench par: measuring time")
	flag.IntVar(&benchWarmup, "warmup", 200, "bench: untimed calls first")
	flag.Parse()
	if *bench != "" {
		os.Exit(runBench(*bench, flag.Args()))
	}
	loaded := loadPlugins(*dir)
	emit(map[string]any{"event": "ready", "plugins": len(loaded)})
	if *watchMode {
		watch(loaded)
	}
	plugin.CleanupClients()
}
