package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
)

// report is the single JSON document the host prints. Field names are the contract with the
// TypeScript tests; see README.md.
type report struct {
	OK                bool             `json:"ok"`
	Scenario          string           `json:"scenario"`
	NegotiatedVersion int              `json:"negotiatedVersion"`
	Protocol          string           `json:"protocol"`
	Result            any              `json:"result"`
	KillMs            float64          `json:"killMs"`
	Exited            bool             `json:"exited"`
	HostLog           []map[string]any `json:"hostLog"`
	SyncStdout        string           `json:"syncStdout"`
	SyncStderr        string           `json:"syncStderr"`
	PluginStderr      string           `json:"pluginStderr"`
	Error             string           `json:"error"`
}

func emit(w io.Writer, rep *report, asJSON bool) {
	if rep.HostLog == nil {
		rep.HostLog = []map[string]any{}
	}
	if !asJSON {
		status := "ok"
		if !rep.OK {
			status = "FAILED: " + rep.Error
		}
		fmt.Fprintf(w, "%s: %s (version %d, %s, kill %.1f ms)\n", rep.Scenario, status,
			rep.NegotiatedVersion, rep.Protocol, rep.KillMs)
		if rep.Result != nil {
			b, _ := json.Marshal(rep.Result)
			fmt.Fprintf(w, "result: %s\n", b)
		}
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		// Only reachable with an unencodable result; still print one parseable document.
		fallback := &report{Scenario: rep.Scenario, Error: "encoding report: " + err.Error()}
		_ = enc.Encode(fallback)
	}
}

// syncBuffer is a bytes.Buffer safe for go-plugin's writer goroutines and our polling reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logEntries parses the host logger's hclog JSON output, one object per line. A line that is
// not JSON (should not happen) is kept as {"raw": line} rather than dropped.
func logEntries(text string) []map[string]any {
	entries := []map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), math.MaxInt32)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var entry map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber() // keep integers such as pids exact
		if err := dec.Decode(&entry); err != nil {
			entry = map[string]any{"raw": string(line)}
		}
		entries = append(entries, entry)
	}
	return entries
}

// findLog returns the entries whose @message equals msg.
func findLog(entries []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, e := range entries {
		if e["@message"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// ms converts a duration to milliseconds rounded to 0.01.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e4) / 100
}

// us converts a duration to microseconds rounded to 0.01.
func us(d time.Duration) float64 {
	return math.Round(float64(d)/10) / 100
}
