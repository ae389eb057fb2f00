package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

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

// logEntries parses the host logger's hclog JSON lines; a line that is not JSON is kept raw.
func logEntries(text string) []map[string]any {
	entries := []map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			entry = map[string]any{"raw": line}
		}
		entries = append(entries, entry)
	}
	return entries
}

// findLog returns the entries whose @message is msg.
func findLog(entries []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, e := range entries {
		if e["@message"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds or the limit (or ctx) runs out: output arrives on other
// goroutines (stdio streams, the stderr reader), so there is no fixed sleep to pick.
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
